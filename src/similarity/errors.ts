/**
 * Errors of content-based similarity. Tests and callers assert on `err.name`.
 * Messages name fields, sizes and limits only, never voxel values or keys
 * read from outside beyond their length.
 */

/** A volume given for feature extraction is malformed (dims, affine, values); nothing was computed. */
export class InvalidVolumeError extends Error {
  static override name = 'InvalidVolumeError'
  readonly field: string

  constructor (field: string, problem: string) {
    super(`volume ${field}: ${problem}`)
    this.name = 'InvalidVolumeError'
    this.field = field
  }
}

/** An option or argument is out of range (bins, grid size, measure, topK, mask, key). */
export class SimilarityOptionsError extends Error {
  static override name = 'SimilarityOptionsError'
  readonly option: string

  constructor (option: string, problem: string) {
    super(`${option}: ${problem}`)
    this.name = 'SimilarityOptionsError'
    this.option = option
  }
}

/** Two images or feature sets cannot be compared (different grid size, length or histogram bins). */
export class IncomparableFeaturesError extends Error {
  static override name = 'IncomparableFeaturesError'

  constructor (problem: string) {
    super(`incomparable: ${problem}`)
    this.name = 'IncomparableFeaturesError'
  }
}

/** Encoded features are malformed or corrupt (bad magic, length, checksum, value out of range). */
export class InvalidFeaturesError extends Error {
  static override name = 'InvalidFeaturesError'

  constructor (problem: string) {
    super(`features: ${problem}`)
    this.name = 'InvalidFeaturesError'
  }
}

/** Encoded features exceed the size limit; refused before parsing. */
export class FeaturesTooLargeError extends Error {
  static override name = 'FeaturesTooLargeError'
  readonly limit: number

  constructor (size: number, limit: number) {
    super(`features: ${size} bytes exceed the ${limit}-byte limit`)
    this.name = 'FeaturesTooLargeError'
    this.limit = limit
  }
}

/** Encoded features of a format version this code does not read. */
export class UnsupportedFeaturesVersionError extends Error {
  static override name = 'UnsupportedFeaturesVersionError'
  readonly version: number

  constructor (version: number) {
    super(`features: unsupported format version ${version}`)
    this.name = 'UnsupportedFeaturesVersionError'
    this.version = version
  }
}
