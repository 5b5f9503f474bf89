/** Errors of the series registry. Tests assert on `err.name`. */

/** No series with this LFN (or series UID) is registered. */
export class SeriesNotFoundError extends Error {
  static override name = 'SeriesNotFoundError'
  readonly lfn: string

  constructor (lfn: string) {
    super(`no series ${lfn}`)
    this.name = 'SeriesNotFoundError'
    this.lfn = lfn
  }
}

/** An instance or series description lacks what the registry needs (UIDs). */
export class InvalidRegistryInputError extends Error {
  static override name = 'InvalidRegistryInputError'

  constructor (detail: string) {
    super(detail)
    this.name = 'InvalidRegistryInputError'
  }
}

/** The site secret file is missing, unreadable or of the wrong size. */
export class SiteSecretError extends Error {
  static override name = 'SiteSecretError'

  constructor (path: string, detail: string) {
    super(`${path}: ${detail}`)
    this.name = 'SiteSecretError'
  }
}

/** The registry was used before `start()` or after `stop()`. */
export class RegistryStoppedError extends Error {
  static override name = 'RegistryStoppedError'

  constructor () {
    super('registry is not running')
    this.name = 'RegistryStoppedError'
  }
}
