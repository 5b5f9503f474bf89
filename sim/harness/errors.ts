/** Errors of the simulator harness. */

/** A hospital process failed to start, answer or stop in time, or died. */
export class SiteProcessError extends Error {
  static override name = 'SiteProcessError'
  readonly site: string
  constructor (site: string, message: string) {
    super(`${site}: ${message}`)
    this.name = 'SiteProcessError'
    this.site = site
  }
}

/** A command sent to a hospital failed there (the message names the error, not patient data). */
export class SiteCommandError extends Error {
  static override name = 'SiteCommandError'
  readonly command: string
  readonly remoteName: string
  constructor (command: string, remoteName: string, message: string) {
    super(`${command}: ${remoteName}: ${message}`)
    this.name = 'SiteCommandError'
    this.command = command
    this.remoteName = remoteName
  }
}

/** The federation did not reach the state a scenario needs (routing tables, announcements). */
export class FederationNotReadyError extends Error {
  static override name = 'FederationNotReadyError'
  constructor (what: string) {
    super(`the simulated federation is not ready: ${what}`)
    this.name = 'FederationNotReadyError'
  }
}

/** A site or link the simulated network does not have (or has twice). */
export class UnknownSiteError extends Error {
  static override name = 'UnknownSiteError'
  constructor (message: string) {
    super(message)
    this.name = 'UnknownSiteError'
  }
}
