/**
 * Errors of volume assembly. Every refusal of a series or object is one of
 * these; tests assert on `err.name`. Messages name files and attributes,
 * never patient data.
 */

/** Base class, so callers can catch every assembly refusal at once. */
export class AssemblyError extends Error {
  static override name = 'AssemblyError'
  constructor (message: string) {
    super(message)
    this.name = 'AssemblyError'
  }
}

/** A compressed transfer syntax we cannot decode (see the module doc for the list and why). */
export class UnsupportedTransferSyntaxError extends AssemblyError {
  static override name = 'UnsupportedTransferSyntaxError'
  readonly transferSyntaxUID: string
  constructor (source: string, transferSyntaxUID: string, reason: string) {
    super(`${source}: transfer syntax ${transferSyntaxUID} is not supported: ${reason}`)
    this.name = 'UnsupportedTransferSyntaxError'
    this.transferSyntaxUID = transferSyntaxUID
  }
}

/** The object is not readable DICOM (bad Part 10 header, truncated, inconsistent pixel data, over a limit). */
export class InvalidDicomError extends AssemblyError {
  static override name = 'InvalidDicomError'
  readonly source: string
  constructor (source: string, problem: string) {
    super(`${source}: ${problem}`)
    this.name = 'InvalidDicomError'
    this.source = source
  }
}

/** A pixel format we do not turn into a volume (colour, palette, odd bit depths). */
export class UnsupportedImageError extends AssemblyError {
  static override name = 'UnsupportedImageError'
  constructor (source: string, problem: string) {
    super(`${source}: ${problem}`)
    this.name = 'UnsupportedImageError'
  }
}

/** No usable patient geometry (ImagePositionPatient / ImageOrientationPatient / per-frame positions). */
export class MissingGeometryError extends AssemblyError {
  static override name = 'MissingGeometryError'
  constructor (source: string, problem: string) {
    super(`${source}: ${problem}`)
    this.name = 'MissingGeometryError'
  }
}

/** The folder holds no image, or objects of more than one series. */
export class NotOneSeriesError extends AssemblyError {
  static override name = 'NotOneSeriesError'
  constructor (problem: string) {
    super(problem)
    this.name = 'NotOneSeriesError'
  }
}

/** Slices disagree on an attribute that must be constant over a volume. */
abstract class MixedError extends AssemblyError {
  readonly attribute: string
  constructor (name: string, attribute: string, first: string, other: string, source: string) {
    super(`${source}: ${attribute} ${other} differs from the series' ${first}`)
    this.name = name
    this.attribute = attribute
  }
}

/** Slices differ in Rows, Columns or PixelSpacing. */
export class MixedSizeError extends MixedError {
  static override name = 'MixedSizeError'
  constructor (attribute: string, first: string, other: string, source: string) {
    super('MixedSizeError', attribute, first, other, source)
  }
}

/** Slices differ in ImageOrientationPatient. */
export class MixedOrientationError extends MixedError {
  static override name = 'MixedOrientationError'
  constructor (attribute: string, first: string, other: string, source: string) {
    super('MixedOrientationError', attribute, first, other, source)
  }
}

/** Slices differ in PhotometricInterpretation, SamplesPerPixel, BitsAllocated/Stored or PixelRepresentation. */
export class MixedPixelFormatError extends MixedError {
  static override name = 'MixedPixelFormatError'
  constructor (attribute: string, first: string, other: string, source: string) {
    super('MixedPixelFormatError', attribute, first, other, source)
  }
}

/** Two slices at the same position along the normal (a repeated acquisition, or a 4D series). */
export class DuplicatePositionError extends AssemblyError {
  static override name = 'DuplicatePositionError'
  readonly position: number
  constructor (a: string, b: string, position: number) {
    super(`${a} and ${b} are both at ${position.toFixed(3)} mm along the slice normal`)
    this.name = 'DuplicatePositionError'
    this.position = position
  }
}

/** A gap between two slices is a multiple of the series step: slices are missing. */
export class MissingSliceError extends AssemblyError {
  static override name = 'MissingSliceError'
  readonly missing: number
  readonly after: number
  constructor (missing: number, after: number, step: number, gap: number) {
    super(`${missing} slice(s) missing after ${after.toFixed(3)} mm along the normal (gap ${gap.toFixed(3)} mm, step ${step.toFixed(3)} mm)`)
    this.name = 'MissingSliceError'
    this.missing = missing
    this.after = after
  }
}

/** The volume would exceed the configured size limits. */
export class VolumeTooLargeError extends AssemblyError {
  static override name = 'VolumeTooLargeError'
  constructor (problem: string) {
    super(problem)
    this.name = 'VolumeTooLargeError'
  }
}

/** A file read back as NIfTI-1 is not one we can read. */
export class InvalidNiftiError extends AssemblyError {
  static override name = 'InvalidNiftiError'
  constructor (source: string, problem: string) {
    super(`${source}: ${problem}`)
    this.name = 'InvalidNiftiError'
  }
}
