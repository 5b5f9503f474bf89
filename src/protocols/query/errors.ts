/** Errors of the metadata query protocol. Tests assert on `err.name`. */

/** No stream to the site could be opened (dial or protocol negotiation failed). */
export class SiteUnreachableError extends Error {
  static override name = 'SiteUnreachableError'

  constructor (peer: string, options?: ErrorOptions) {
    super(`cannot reach ${peer}`, options)
    this.name = 'SiteUnreachableError'
  }
}

/** A fan-out option out of range (limit, timeout). */
export class QueryOptionsError extends Error {
  static override name = 'QueryOptionsError'

  constructor (message: string) {
    super(message)
    this.name = 'QueryOptionsError'
  }
}
