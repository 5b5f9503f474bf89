/**
 * The similarity measures behind one interface. `prepareMeasure` does the
 * query's share of the work once (centring, binning, tables, buffers);
 * `score` then compares one candidate without allocating. The plain
 * functions `ncc`, `nmi`, `correlationRatio` prepare and score one pair.
 */
import { prepareCorrelationRatio } from './correlation-ratio.js'
import { SimilarityOptionsError } from './errors.js'
import { prepareNcc } from './ncc.js'
import { prepareNmi } from './nmi.js'
import type { MeasureName } from './types.js'
import { checkImage, checkPair, resolveBins } from './voxels.js'
import type { MeasureOptions } from './voxels.js'

export interface PreparedMeasure {
  readonly name: MeasureName
  /** Voxels per image (the query's length; candidates must match). */
  readonly length: number
  /**
   * Score of one candidate image, higher = more similar. `min`/`max`: the
   * candidate's value range over the compared voxels when already known
   * (NMI bins by it; computed when omitted). No allocation, no checks: the
   * caller guarantees a finite Float32Array of `length` values.
   */
  score: (candidate: Float32Array, min?: number, max?: number) => number
}

/** Documented range of each measure: [worst, best]. */
export const MEASURE_RANGES: Readonly<Record<MeasureName, readonly [number, number]>> = {
  ncc: [-1, 1],
  nmi: [1, 2],
  cr: [0, 1]
}

const PREPARE: Readonly<Record<MeasureName, (q: Float32Array, o: MeasureOptions) => PreparedMeasure>> = {
  ncc: prepareNcc,
  nmi: prepareNmi,
  cr: prepareCorrelationRatio
}

export function isMeasureName (name: unknown): name is MeasureName {
  return typeof name === 'string' && Object.hasOwn(PREPARE, name)
}

/**
 * Prepares `measure` for a query image.
 *
 * @example
 * const m = prepareMeasure('cr', query.thumbnail, { bins: 16 })
 * const s = m.score(candidate.thumbnail)
 */
export function prepareMeasure (measure: MeasureName, query: Float32Array, options: MeasureOptions = {}): PreparedMeasure {
  if (!isMeasureName(measure)) throw new SimilarityOptionsError('measure', `unknown measure (expected ${Object.keys(PREPARE).join(', ')})`)
  checkImage('query', query)
  if (options.bins !== undefined) resolveBins(options.bins)
  return PREPARE[measure](query, options)
}

/** NCC of two images, in [-1, 1]. */
export function ncc (a: Float32Array, b: Float32Array, options: MeasureOptions = {}): number {
  checkPair(a, b)
  return prepareNcc(a, options).score(b)
}

/** Studholme's NMI of two images, in [1, 2]. */
export function nmi (a: Float32Array, b: Float32Array, options: MeasureOptions = {}): number {
  checkPair(a, b)
  return prepareNmi(a, options).score(b)
}

/** Roche's correlation ratio η(Y | X), X binned, in [0, 1]. */
export function correlationRatio (x: Float32Array, y: Float32Array, options: MeasureOptions = {}): number {
  checkPair(x, y)
  return prepareCorrelationRatio(x, options).score(y)
}

/** Any measure of two images. */
export function similarity (measure: MeasureName, a: Float32Array, b: Float32Array, options: MeasureOptions = {}): number {
  const m = prepareMeasure(measure, a, options)
  checkPair(a, b)
  return m.score(b)
}
