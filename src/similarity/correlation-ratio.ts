/**
 * Correlation ratio (Roche, Malandain, Pennec, Ayache, MICCAI'98, LNCS 1496,
 * pp. 1115–1124; the paper's reference [20]):
 *
 *   η(Y | X) = 1 − Var[Y − E(Y | X)] / Var(Y)   ∈ [0, 1]
 *
 * X is the query, binned into B classes over its own [min, max]; Y is the
 * candidate's raw values. η = 1 when Y is a function of X's class (any
 * function, monotonic or not: the measure of functional dependence that
 * suits different contrasts of the same anatomy), 0 when E(Y | X) is
 * constant. Not symmetric. Defined as 0 when Y is constant.
 *
 * With n_i voxels and sum S_i of Y in class i, N and S in total and Q = ΣY²,
 * Var[Y − E(Y|X)] = (Q − Σ S_i²/n_i)/N and Var(Y) = (Q − S²/N)/N, so
 * η = (Σ S_i²/n_i − S²/N) / (Q − S²/N): per candidate one pass adding each
 * voxel to its class sum and to Q (values shifted by the first voxel, for
 * precision; η is shift-invariant). The class counts n_i belong to the query,
 * and so do its runs of consecutive voxels in one class: the voxel loop sums
 * a run in a register and touches the class sums once per run.
 */
import type { PreparedMeasure } from './measure.js'
import { binImage, maskIndices, resolveBins } from './voxels.js'
import type { MeasureOptions } from './voxels.js'

class CorrelationRatioKernel implements PreparedMeasure {
  readonly name = 'cr'
  readonly length: number
  private readonly idx: Int32Array | undefined
  /** Runs of consecutive compared voxels in one query class: [start, end) and class. */
  private readonly runStart: Int32Array
  private readonly runClass: Uint8Array
  private readonly n: number
  private readonly count: Float64Array
  private readonly sums: Float64Array

  constructor (query: Float32Array, options: MeasureOptions) {
    const bins = resolveBins(options.bins)
    const idx = maskIndices(query.length, options.mask)
    const classes = binImage(query, idx, bins)
    const n = classes.length
    const count = new Float64Array(bins)
    let runs = 0
    for (let t = 0; t < n; t++) {
      count[classes[t] as number] = (count[classes[t] as number] as number) + 1
      if (t === 0 || classes[t] !== classes[t - 1]) runs++
    }
    // one extra start = n closes the last run
    const runStart = new Int32Array(runs + 1)
    const runClass = new Uint8Array(runs)
    for (let t = 0, r = 0; t < n; t++) {
      if (t === 0 || classes[t] !== classes[t - 1]) { runStart[r] = t; runClass[r] = classes[t] as number; r++ }
    }
    runStart[runs] = n
    this.length = query.length
    this.idx = idx
    this.runStart = runStart
    this.runClass = runClass
    this.n = n
    this.count = count
    this.sums = new Float64Array(bins)
  }

  score (c: Float32Array): number {
    const { runStart, runClass, sums, idx, n } = this
    const runs = runClass.length
    sums.fill(0)
    let q = 0
    if (idx === undefined) {
      const y0 = c[0] as number
      for (let r = 0; r < runs; r++) {
        const end = runStart[r + 1] as number
        let s = 0
        for (let i = runStart[r] as number; i < end; i++) {
          const y = (c[i] as number) - y0
          s += y
          q += y * y
        }
        const b = runClass[r] as number
        sums[b] = (sums[b] as number) + s
      }
    } else {
      const y0 = c[idx[0] as number] as number
      for (let r = 0; r < runs; r++) {
        const end = runStart[r + 1] as number
        let s = 0
        for (let t = runStart[r] as number; t < end; t++) {
          const y = (c[idx[t] as number] as number) - y0
          s += y
          q += y * y
        }
        const b = runClass[r] as number
        sums[b] = (sums[b] as number) + s
      }
    }
    return this.finish(q, n)
  }

  private finish (q: number, n: number): number {
    const { count, sums } = this
    let s = 0
    let between = 0
    for (let b = 0; b < count.length; b++) {
      const k = count[b] as number
      if (k > 0) {
        const sb = sums[b] as number
        s += sb
        between += sb * sb / k
      }
    }
    const mean2 = s * s / n
    const total = q - mean2
    if (!(total > 0)) return 0
    const eta = (between - mean2) / total
    return eta > 1 ? 1 : eta < 0 ? 0 : eta
  }
}

export function prepareCorrelationRatio (query: Float32Array, options: MeasureOptions = {}): PreparedMeasure {
  return new CorrelationRatioKernel(query, options)
}
