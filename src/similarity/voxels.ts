/**
 * What the measures share: the voxel set (all, or a mask's), argument checks,
 * and per-image binning. Helpers here run once per query, not per candidate.
 */
import { DEFAULT_MEASURE_BINS, MAX_MEASURE_BINS, MIN_MEASURE_BINS } from './constants.js'
import { IncomparableFeaturesError, SimilarityOptionsError } from './errors.js'

export interface MeasureOptions {
  /**
   * Voxels to compare: non-zero entries count (same length as the images).
   * Default: all voxels.
   */
  mask?: Uint8Array
  /** Histogram bins of NMI and X classes of the correlation ratio (default 16, 2…256). */
  bins?: number
}

/** The voxel indices a mask selects, or undefined for all; throws on a wrong length or an empty mask. */
export function maskIndices (length: number, mask: Uint8Array | undefined): Int32Array | undefined {
  if (mask === undefined) return undefined
  if (!(mask instanceof Uint8Array)) throw new SimilarityOptionsError('mask', 'expected a Uint8Array')
  if (mask.length !== length) throw new IncomparableFeaturesError(`mask has ${mask.length} voxels, images ${length}`)
  let n = 0
  for (let i = 0; i < length; i++) if (mask[i] !== 0) n++
  if (n === 0) throw new SimilarityOptionsError('mask', 'selects no voxel')
  const idx = new Int32Array(n)
  n = 0
  for (let i = 0; i < length; i++) if (mask[i] !== 0) idx[n++] = i
  return idx
}

export function checkImage (name: string, a: Float32Array): void {
  if (!(a instanceof Float32Array)) throw new SimilarityOptionsError(name, 'expected a Float32Array')
  if (a.length === 0) throw new SimilarityOptionsError(name, 'empty')
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number
    if (!(v > -Infinity && v < Infinity)) throw new SimilarityOptionsError(name, 'contains a non-finite value')
  }
}

export function checkPair (a: Float32Array, b: Float32Array): void {
  checkImage('a', a)
  checkImage('b', b)
  if (a.length !== b.length) throw new IncomparableFeaturesError(`images have ${a.length} and ${b.length} voxels`)
}

export function resolveBins (bins: number | undefined): number {
  const b = bins ?? DEFAULT_MEASURE_BINS
  if (!Number.isInteger(b) || b < MIN_MEASURE_BINS || b > MAX_MEASURE_BINS) {
    throw new SimilarityOptionsError('bins', `expected an integer in [${MIN_MEASURE_BINS}, ${MAX_MEASURE_BINS}]`)
  }
  return b
}

/** Smallest and largest value over the selected voxels, into out[0], out[1] (no allocation). */
export function boundsInto (a: Float32Array, idx: Int32Array | undefined, out: Float64Array): void {
  let min = Infinity
  let max = -Infinity
  const n = idx === undefined ? a.length : idx.length
  for (let t = 0; t < n; t++) {
    const v = a[idx === undefined ? t : idx[t] as number] as number
    if (v < min) min = v
    if (v > max) max = v
  }
  out[0] = min
  out[1] = max
}

/** Smallest and largest value over the selected voxels. */
export function bounds (a: Float32Array, idx: Int32Array | undefined): [number, number] {
  const out = new Float64Array(2)
  boundsInto(a, idx, out)
  return [out[0] as number, out[1] as number]
}

/**
 * Bin of each selected voxel (position t of the selection): B equal bins over
 * the image's own [min, max], the last bin closed (max falls in B − 1).
 * A constant image is all bin 0.
 */
export function binImage (a: Float32Array, idx: Int32Array | undefined, bins: number): Uint8Array {
  const [min, max] = bounds(a, idx)
  const scale = max > min ? bins / (max - min) : 0
  const n = idx === undefined ? a.length : idx.length
  const out = new Uint8Array(n)
  for (let t = 0; t < n; t++) {
    const b = (((a[idx === undefined ? t : idx[t] as number] as number) - min) * scale) | 0
    out[t] = b >= bins ? bins - 1 : b
  }
  return out
}
