/** Errors of a node's similarity index. Tests assert on `err.name`. */

/** A series' features are not available (not a series of this site, no modality, slices unreadable, …). */
export class FeaturesUnavailableError extends Error {
  static override name = 'FeaturesUnavailableError'
  readonly lfn: string
  /** The indexing outcome: unknown, virtual, failed; plus the error name when it failed. */
  readonly reason: string

  constructor (lfn: string, reason: string) {
    super(`no features for ${lfn} (${reason})`)
    this.name = 'FeaturesUnavailableError'
    this.lfn = lfn
    this.reason = reason
  }
}

/** A control-channel call of the similarity index has bad parameters. */
export class SimilarityControlError extends Error {
  static override name = 'SimilarityControlError'

  constructor (message: string) {
    super(message)
    this.name = 'SimilarityControlError'
  }
}
