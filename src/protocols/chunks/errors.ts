/** Errors of chunk transfer. Tests assert on `err.name`. */

/** A source sent a chunk whose hash is not the one the manifest names. */
export class CorruptChunkError extends Error {
  static override name = 'CorruptChunkError'
  readonly index: number

  constructor (index: number) {
    super(`chunk ${index} does not match its hash`)
    this.name = 'CorruptChunkError'
    this.index = index
  }
}

/** A source sent nothing within the stall timeout. */
export class StalledSourceError extends Error {
  static override name = 'StalledSourceError'

  constructor (ms: number) {
    super(`no data for ${ms} ms`)
    this.name = 'StalledSourceError'
  }
}

/** Every source failed or lacked some chunks: the transfer cannot complete. */
export class MissingChunksError extends Error {
  static override name = 'MissingChunksError'
  readonly missing: number[]

  constructor (missing: number[]) {
    super(`${missing.length} chunk(s) could not be fetched from any source`)
    this.name = 'MissingChunksError'
    this.missing = missing
  }
}
