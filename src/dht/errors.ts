/** Errors of localization. Tests assert on `err.name`. */

/** A DHT record failed validation (signature, membership, size, expiry, rollback). */
export class InvalidRecordError extends Error {
  static override name = 'InvalidRecordError'
  readonly reason: string

  constructor (reason: string) {
    super(`invalid DHT record: ${reason}`)
    this.name = 'InvalidRecordError'
    this.reason = reason
  }
}

/** A lookup found nothing: no record, or no holder. */
export class NotLocatedError extends Error {
  static override name = 'NotLocatedError'
  readonly what: string

  constructor (what: string) {
    super(`nothing found in the federation for ${what}`)
    this.name = 'NotLocatedError'
    this.what = what
  }
}

/** A publication reached no peer that stored it. */
export class PublishError extends Error {
  static override name = 'PublishError'

  constructor (message: string) {
    super(message)
    this.name = 'PublishError'
  }
}
