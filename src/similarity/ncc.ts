/**
 * Normalized cross-correlation (Pearson's r over voxels):
 *
 *   NCC(A, B) = Σ (a − ā)(b − b̄) / √(Σ (a − ā)² · Σ (b − b̄)²)   ∈ [-1, 1]
 *
 * 1 for B = αA + β with α > 0 (so invariant to positive linear intensity
 * changes), -1 for α < 0. Defined as 0 when either image is constant over
 * the voxels compared (no evidence of similarity).
 *
 * The query is centred once (two passes, exact); per candidate one pass
 * accumulates Σd, Σd², Σ q̃·d with d = b − b₀ (b₀ its first voxel, the
 * shifted-data variance algorithm, so a constant candidate has exactly zero
 * variance and a large offset loses no precision).
 *
 * Kernels are classes, not closures: one optimized `score` serves every
 * query, where a closure per query would be re-optimized for each.
 */
import type { PreparedMeasure } from './measure.js'
import { maskIndices } from './voxels.js'
import type { MeasureOptions } from './voxels.js'

class NccKernel implements PreparedMeasure {
  readonly name = 'ncc'
  readonly length: number
  /** Query minus its mean, over the compared voxels (selection order). */
  private readonly centred: Float64Array
  private readonly energy: number
  private readonly idx: Int32Array | undefined

  constructor (query: Float32Array, options: MeasureOptions) {
    const idx = maskIndices(query.length, options.mask)
    const n = idx === undefined ? query.length : idx.length
    const centred = new Float64Array(n)
    let mean = 0
    for (let t = 0; t < n; t++) mean += query[idx === undefined ? t : idx[t] as number] as number
    mean /= n
    let energy = 0
    for (let t = 0; t < n; t++) {
      const v = (query[idx === undefined ? t : idx[t] as number] as number) - mean
      centred[t] = v
      energy += v * v
    }
    this.length = query.length
    this.centred = centred
    this.energy = energy
    this.idx = idx
  }

  score (c: Float32Array): number {
    const q = this.centred
    const n = q.length
    const idx = this.idx
    let sd = 0
    let sdd = 0
    let sqd = 0
    if (idx === undefined) {
      const b0 = c[0] as number
      for (let i = 0; i < n; i++) {
        const d = (c[i] as number) - b0
        sd += d
        sdd += d * d
        sqd += (q[i] as number) * d
      }
    } else {
      const b0 = c[idx[0] as number] as number
      for (let t = 0; t < n; t++) {
        const d = (c[idx[t] as number] as number) - b0
        sd += d
        sdd += d * d
        sqd += (q[t] as number) * d
      }
    }
    const variance = sdd - sd * sd / n
    if (!(variance > 0) || !(this.energy > 0)) return 0
    const r = sqd / Math.sqrt(this.energy * variance)
    return r > 1 ? 1 : r < -1 ? -1 : r
  }
}

export function prepareNcc (query: Float32Array, options: MeasureOptions = {}): PreparedMeasure {
  return new NccKernel(query, options)
}
