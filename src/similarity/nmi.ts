/**
 * Normalized mutual information (Studholme, Hill, Hawkes, Pattern
 * Recognition 32(1), 1999):
 *
 *   NMI(A, B) = (H(A) + H(B)) / H(A, B)   ∈ [1, 2]
 *
 * from a joint histogram of B × B bins, each image binned over its own
 * [min, max] (voxels.ts). 2 when each image's bins determine the other's
 * (identical images, or any one-to-one relabelling of bins); 1 when they are
 * independent. Symmetric. Defined as 1 when H(A, B) = 0 (both constant).
 *
 * Entropies use n·ln n from a table (H = ln N − Σ n ln n / N), so scoring a
 * candidate costs one pass over its voxels plus B² additions, no logarithm.
 */
import type { PreparedMeasure } from './measure.js'
import { binImage, boundsInto, maskIndices, resolveBins } from './voxels.js'
import type { MeasureOptions } from './voxels.js'

class NmiKernel implements PreparedMeasure {
  readonly name = 'nmi'
  readonly length: number
  private readonly bins: number
  private readonly idx: Int32Array | undefined
  /** Offset of each compared voxel's query bin row in the joint histogram. */
  private readonly row: Uint16Array
  /** k·ln k for k = 0…N. */
  private readonly nlogn: Float64Array
  private readonly ha: number
  private readonly joint: Int32Array
  private readonly column: Int32Array
  private readonly range = new Float64Array(2)

  constructor (query: Float32Array, options: MeasureOptions) {
    const bins = resolveBins(options.bins)
    const idx = maskIndices(query.length, options.mask)
    const n = idx === undefined ? query.length : idx.length
    const qb = binImage(query, idx, bins)
    const row = new Uint16Array(n)
    const marginal = new Int32Array(bins)
    for (let t = 0; t < n; t++) {
      const b = qb[t] as number
      row[t] = b * bins
      marginal[b] = (marginal[b] as number) + 1
    }
    const nlogn = new Float64Array(n + 1)
    for (let k = 2; k <= n; k++) nlogn[k] = k * Math.log(k)
    let sa = 0
    for (let b = 0; b < bins; b++) sa += nlogn[marginal[b] as number] as number
    this.length = query.length
    this.bins = bins
    this.idx = idx
    this.row = row
    this.nlogn = nlogn
    this.ha = Math.log(n) - sa / n
    this.joint = new Int32Array(bins * bins)
    this.column = new Int32Array(bins)
  }

  score (c: Float32Array, min?: number, max?: number): number {
    if (min === undefined || max === undefined) {
      boundsInto(c, this.idx, this.range)
      min = this.range[0] as number
      max = this.range[1] as number
    }
    const bins = this.bins
    const last = bins - 1
    const scale = max > min ? bins / (max - min) : 0
    const row = this.row
    const joint = this.joint
    const idx = this.idx
    const n = row.length
    joint.fill(0)
    if (idx === undefined) {
      for (let i = 0; i < n; i++) {
        let b = (((c[i] as number) - min) * scale) | 0
        b = b > last ? last : b < 0 ? 0 : b
        const o = (row[i] as number) + b
        joint[o] = (joint[o] as number) + 1
      }
    } else {
      for (let t = 0; t < n; t++) {
        let b = (((c[idx[t] as number] as number) - min) * scale) | 0
        b = b > last ? last : b < 0 ? 0 : b
        const o = (row[t] as number) + b
        joint[o] = (joint[o] as number) + 1
      }
    }
    return this.finish(n)
  }

  private finish (n: number): number {
    const { bins, joint, column, nlogn } = this
    column.fill(0)
    let sab = 0
    for (let r = 0, o = 0; r < bins; r++) {
      for (let c = 0; c < bins; c++, o++) {
        const k = joint[o] as number
        if (k !== 0) {
          sab += nlogn[k] as number
          column[c] = (column[c] as number) + k
        }
      }
    }
    let sb = 0
    for (let c = 0; c < bins; c++) sb += nlogn[column[c] as number] as number
    const logN = Math.log(n)
    const hab = logN - sab / n
    if (!(hab > 0)) return 1
    const v = (this.ha + logN - sb / n) / hab
    return v > 2 ? 2 : v < 1 ? 1 : v
  }
}

export function prepareNmi (query: Float32Array, options: MeasureOptions = {}): PreparedMeasure {
  return new NmiKernel(query, options)
}
