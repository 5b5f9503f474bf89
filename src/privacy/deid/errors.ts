/**
 * Errors of de-identification. Tests assert on `err.name`. Messages name tags and reasons,
 * never a value from the object (they may end up in logs).
 */

/** What was wrong with the input, for callers that branch on it. */
export type DeidFormatProblem = 'not-dicom' | 'truncated' | 'malformed' | 'unsupported'

/** The input is not a well-formed DICOM PS3.10 file (or uses something this reader cannot handle). */
export class DeidFormatError extends Error {
  static override name = 'DeidFormatError'
  readonly problem: DeidFormatProblem

  constructor (problem: DeidFormatProblem, detail: string) {
    super(`not a well-formed DICOM file (${problem}): ${detail}`)
    this.name = 'DeidFormatError'
    this.problem = problem
  }
}

/** The input (or its inflated data set) is larger than the configured limit. */
export class DeidInputTooLargeError extends Error {
  static override name = 'DeidInputTooLargeError'
  readonly limit: number

  constructor (limit: number) {
    super(`input larger than the limit of ${limit} bytes`)
    this.name = 'DeidInputTooLargeError'
    this.limit = limit
  }
}

/** A DICOM object the profile does not apply to (a DICOMDIR, no SOP Class/Instance UID). */
export class DeidUnsupportedObjectError extends Error {
  static override name = 'DeidUnsupportedObjectError'

  constructor (detail: string) {
    super(`cannot de-identify this object: ${detail}`)
    this.name = 'DeidUnsupportedObjectError'
  }
}

/**
 * The object may carry burned-in identifying text (PS3.15 E.3.1) and no pixel-cleaning rule
 * applies: refused for egress.
 */
export class DeidBurnedInTextError extends Error {
  static override name = 'DeidBurnedInTextError'
  readonly reason: string

  constructor (reason: string) {
    super(`refused for egress: pixel data may carry burned-in text (${reason}) and no pixel-cleaning rule applies`)
    this.name = 'DeidBurnedInTextError'
    this.reason = reason
  }
}

/** The site secret is missing or too short for the keyed HMAC. */
export class DeidSecretError extends Error {
  static override name = 'DeidSecretError'

  constructor (detail: string) {
    super(`bad de-identification secret: ${detail}`)
    this.name = 'DeidSecretError'
  }
}

/** The de-identified output failed its own check (a bug, never a property of the input). */
export class DeidOutputError extends Error {
  static override name = 'DeidOutputError'

  constructor (detail: string) {
    super(`de-identified output failed verification: ${detail}`)
    this.name = 'DeidOutputError'
  }
}

/** Names of every error above, for callers that sort failures into refused inputs vs. bugs. */
export const DEID_INPUT_ERROR_NAMES: readonly string[] = [
  'DeidFormatError', 'DeidInputTooLargeError', 'DeidUnsupportedObjectError', 'DeidBurnedInTextError'
]
