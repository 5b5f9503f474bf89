/**
 * The feature histogram and the distances of the ranking pre-filter.
 *
 * The histogram has `bins` equal bins over [lo, hi]; values outside are
 * counted in the end bins (CT padding below -1024 HU is air; MR voxels
 * beyond the robust percentiles are its brightest/darkest tissue), and it is
 * normalized to sum 1, so volumes of any size compare.
 *
 * Distances are 0 for identical histograms and at most 1; lower = closer.
 * - 'emd': earth mover's distance in 1-D, Σ|CDF_p − CDF_q| / (bins − 1)
 *   (Rubner, Tomasi, Guibas, IJCV 2000): mass moved × bins travelled, so a
 *   peak shifted by one bin (a small gain or calibration change) costs a
 *   little, not everything. The default.
 * - 'chi2': ½ Σ (p − q)² / (p + q).
 * - 'bhattacharyya': Hellinger form √(1 − Σ √(p·q)).
 * - 'intersection': 1 − Σ min(p, q) (Swain & Ballard, IJCV 1991).
 */
import { IncomparableFeaturesError, SimilarityOptionsError } from './errors.js'
import type { Rescale } from './range.js'
import type { HistogramDistanceName, VoxelArray } from './types.js'

export function intensityHistogram (data: VoxelArray, rescale: Rescale, lo: number, hi: number, bins: number): Float32Array {
  const counts = new Float64Array(bins)
  const scale = bins / (hi - lo)
  const { slope, intercept } = rescale
  for (let i = 0; i < data.length; i++) {
    const x = ((data[i] as number) * slope + intercept - lo) * scale
    const b = x <= 0 ? 0 : x >= bins ? bins - 1 : x | 0
    counts[b] = (counts[b] as number) + 1
  }
  const out = new Float32Array(bins)
  const n = data.length
  for (let b = 0; b < bins; b++) out[b] = (counts[b] as number) / n
  return out
}

/** Earth mover's distance between two normalized 1-D histograms, scaled to [0, 1]. */
export function emd (p: Float32Array, q: Float32Array): number {
  const n = p.length
  if (n < 2) return 0
  let cp = 0
  let cq = 0
  let s = 0
  for (let i = 0; i < n - 1; i++) {
    cp += p[i] as number
    cq += q[i] as number
    s += Math.abs(cp - cq)
  }
  return Math.min(1, s / (n - 1))
}

export function chiSquare (p: Float32Array, q: Float32Array): number {
  let s = 0
  for (let i = 0; i < p.length; i++) {
    const a = p[i] as number
    const b = q[i] as number
    const t = a + b
    if (t > 0) s += (a - b) * (a - b) / t
  }
  return Math.min(1, s / 2)
}

export function bhattacharyya (p: Float32Array, q: Float32Array): number {
  let bc = 0
  for (let i = 0; i < p.length; i++) bc += Math.sqrt((p[i] as number) * (q[i] as number))
  return Math.sqrt(Math.max(0, 1 - bc))
}

export function intersection (p: Float32Array, q: Float32Array): number {
  let s = 0
  for (let i = 0; i < p.length; i++) s += Math.min(p[i] as number, q[i] as number)
  return Math.min(1, Math.max(0, 1 - s))
}

export const HISTOGRAM_DISTANCES: Readonly<Record<HistogramDistanceName, (p: Float32Array, q: Float32Array) => number>> = {
  emd,
  chi2: chiSquare,
  bhattacharyya,
  intersection
}

/** The named distance; SimilarityOptionsError on an unknown name, IncomparableFeaturesError on unequal bin counts. */
export function histogramDistance (p: Float32Array, q: Float32Array, name: HistogramDistanceName = 'emd'): number {
  const f = distanceFunction(name)
  if (p.length !== q.length) throw new IncomparableFeaturesError(`histogram bin counts differ (${p.length} vs ${q.length})`)
  return f(p, q)
}

export function distanceFunction (name: HistogramDistanceName): (p: Float32Array, q: Float32Array) => number {
  const f = Object.hasOwn(HISTOGRAM_DISTANCES, name) ? HISTOGRAM_DISTANCES[name] : undefined
  if (f === undefined) throw new SimilarityOptionsError('distance', `unknown histogram distance (expected ${Object.keys(HISTOGRAM_DISTANCES).join(', ')})`)
  return f
}
