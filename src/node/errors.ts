/** Errors of the hospital node. Tests assert on `err.name`. */

/** The identity file exists but cannot be used (unreadable, corrupt, not Ed25519, too open). */
export class IdentityError extends Error {
  static override name = 'IdentityError'
  readonly file: string

  constructor (file: string, problem: string) {
    super(`${file}: ${problem}`)
    this.name = 'IdentityError'
    this.file = file
  }
}

/** An operation needs a started node. */
export class NodeNotStartedError extends Error {
  static override name = 'NodeNotStartedError'

  constructor (message = 'the hospital node is not started') {
    super(message)
    this.name = 'NodeNotStartedError'
  }
}

/** `start()` was interrupted by `stop()`; nothing is left open. */
export class StartAbortedError extends Error {
  static override name = 'StartAbortedError'

  constructor (message = 'start was aborted by stop') {
    super(message)
    this.name = 'StartAbortedError'
  }
}

/** Another process already has this data directory's database open. */
export class DataDirInUseError extends Error {
  static override name = 'DataDirInUseError'
  readonly dataDir: string

  constructor (dataDir: string) {
    super(`${dataDir}: the database is in use by another process`)
    this.name = 'DataDirInUseError'
    this.dataDir = dataDir
  }
}
