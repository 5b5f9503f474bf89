/**
 * The physical intensity range a volume's features are computed over:
 * fixed Hounsfield units for CT, the volume's own robust percentiles for any
 * other modality (see constants.ts for the choice). Percentiles come from a
 * fine histogram (65,536 bins between min and max, linear inside a bin):
 * two passes, no sort, no copy of the volume.
 */
import { CT_RANGE, PERCENTILE_BINS, ROBUST_PERCENTILES } from './constants.js'
import { InvalidVolumeError, SimilarityOptionsError } from './errors.js'
import type { VoxelArray } from './types.js'

export interface Rescale { slope: number, intercept: number }

/** Physical min and max; throws InvalidVolumeError on a NaN or infinite voxel. */
export function valueBounds (data: VoxelArray, rescale: Rescale): { min: number, max: number } {
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number
    if (!(v > -Infinity && v < Infinity)) throw new InvalidVolumeError('data', 'contains a non-finite value')
    if (v < min) min = v
    if (v > max) max = v
  }
  const a = min * rescale.slope + rescale.intercept
  const b = max * rescale.slope + rescale.intercept
  return a <= b ? { min: a, max: b } : { min: b, max: a }
}

/**
 * Physical values at the given percentiles (0–100, ascending), read from a
 * fine histogram between `bounds.min` and `bounds.max`.
 */
export function percentiles (data: VoxelArray, rescale: Rescale, bounds: { min: number, max: number }, ps: readonly number[]): number[] {
  const { min, max } = bounds
  if (!(max > min)) return ps.map(() => min)
  const n = PERCENTILE_BINS
  const counts = new Float64Array(n)
  const scale = n / (max - min)
  const { slope, intercept } = rescale
  for (let i = 0; i < data.length; i++) {
    let b = (((data[i] as number) * slope + intercept - min) * scale) | 0
    if (b >= n) b = n - 1
    else if (b < 0) b = 0
    counts[b] = (counts[b] as number) + 1
  }
  const width = (max - min) / n
  const out: number[] = []
  let cum = 0
  let b = 0
  for (const p of ps) {
    const target = (p / 100) * data.length
    while (b < n - 1 && cum + (counts[b] as number) < target) { cum += counts[b] as number; b++ }
    const c = counts[b] as number
    const frac = c > 0 ? Math.min(1, Math.max(0, (target - cum) / c)) : 0
    out.push(min + (b + frac) * width)
  }
  return out
}

export interface RangeOptions {
  /** An explicit [lo, hi] (physical units) instead of the modality's rule. */
  range?: readonly [number, number]
  /** Percentiles for non-CT modalities (default 0.5, 99.5). */
  percentiles?: readonly [number, number]
}

/**
 * [lo, hi] with lo < hi. CT: CT_RANGE. Others: robust percentiles, falling
 * back to [min, max] when they coincide (a mostly constant volume), and to
 * [v − 0.5, v + 0.5] for a constant one.
 */
export function intensityRange (data: VoxelArray, rescale: Rescale, modality: string, options: RangeOptions = {}): [number, number] {
  const bounds = valueBounds(data, rescale)
  if (options.range !== undefined) {
    const [lo, hi] = options.range
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new SimilarityOptionsError('range', 'expected finite lo < hi')
    return [lo, hi]
  }
  if (modality === 'CT') return [CT_RANGE[0], CT_RANGE[1]]
  const [pl, ph] = options.percentiles ?? ROBUST_PERCENTILES
  if (!(pl >= 0 && ph <= 100 && pl < ph)) throw new SimilarityOptionsError('percentiles', 'expected 0 ≤ low < high ≤ 100')
  const [lo, hi] = percentiles(data, rescale, bounds, [pl, ph]) as [number, number]
  if (hi > lo) return [lo, hi]
  if (bounds.max > bounds.min) return [bounds.min, bounds.max]
  return [bounds.min - 0.5, bounds.min + 0.5]
}
