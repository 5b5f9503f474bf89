/** Errors of the image pipeline. Tests assert on `err.name`. */

/** The LFN is not registered at this site. */
export class UnknownLfnError extends Error {
  static override name = 'UnknownLfnError'
  readonly lfn: string

  constructor (lfn: string) {
    super(`LFN ${lfn} is not registered here`)
    this.name = 'UnknownLfnError'
    this.lfn = lfn
  }
}

/** A step of preparing an image failed; `step` names it, `cause` says why. */
export class PrepareError extends Error {
  static override name = 'PrepareError'
  readonly step: string

  constructor (step: string, cause: unknown) {
    super(`preparing the image failed at ${step}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'PrepareError'
    this.step = step
  }
}

/** A DICOM bundle (the DICOM form of an image) is malformed or truncated. */
export class BundleFormatError extends Error {
  static override name = 'BundleFormatError'

  constructor (message: string) {
    super(`DICOM bundle: ${message}`)
    this.name = 'BundleFormatError'
  }
}
