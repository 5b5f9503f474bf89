/** Errors of the local control channel. Tests assert on `err.name`. */

/** The node's control socket is missing or refuses connections: the node is not running. */
export class NodeNotRunningError extends Error {
  static override name = 'NodeNotRunningError'

  constructor (socketPath: string) {
    super(`no node is running on ${socketPath}`)
    this.name = 'NodeNotRunningError'
  }
}

/** Another process already serves this control socket. */
export class ControlSocketInUseError extends Error {
  static override name = 'ControlSocketInUseError'

  constructor (socketPath: string) {
    super(`${socketPath} is in use by a running node`)
    this.name = 'ControlSocketInUseError'
  }
}

/** A control call failed on the node; `remoteName` is the node-side error's name. */
export class ControlCallError extends Error {
  static override name = 'ControlCallError'
  readonly remoteName: string

  constructor (remoteName: string, message: string) {
    super(message)
    this.name = 'ControlCallError'
    this.remoteName = remoteName
  }
}

/** A malformed or oversized control message. */
export class ControlProtocolError extends Error {
  static override name = 'ControlProtocolError'

  constructor (message: string) {
    super(message)
    this.name = 'ControlProtocolError'
  }
}
