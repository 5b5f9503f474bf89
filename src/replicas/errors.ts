/** Errors of the replica manager. Tests assert on `err.name`. */

/** A replicate request or control call with malformed parameters. */
export class ReplicaParamsError extends Error {
  static override name = 'ReplicaParamsError'

  constructor (message: string) {
    super(message)
    this.name = 'ReplicaParamsError'
  }
}

/** A replication ticket that is malformed, expired, for someone else or badly signed. */
export class TicketError extends Error {
  static override name = 'TicketError'

  constructor (message: string) {
    super(`replication ticket: ${message}`)
    this.name = 'TicketError'
  }
}

/** The replica store refused a commit (wrong chunks, wrong manifest). */
export class ReplicaStoreError extends Error {
  static override name = 'ReplicaStoreError'

  constructor (message: string) {
    super(message)
    this.name = 'ReplicaStoreError'
  }
}

/** This site masters no prepared version of the LFN (so it cannot place replicas of it). */
export class NotMasteredError extends Error {
  static override name = 'NotMasteredError'

  constructor (lfn: string) {
    super(`this site masters no prepared version of ${lfn}`)
    this.name = 'NotMasteredError'
  }
}

/** The target of a replication is not an eligible storage site. */
export class NotEligibleError extends Error {
  static override name = 'NotEligibleError'

  constructor (site: string, why: string) {
    super(`${site} cannot hold a replica: ${why}`)
    this.name = 'NotEligibleError'
  }
}
