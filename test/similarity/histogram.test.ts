import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { bhattacharyya, chiSquare, emd, histogramDistance, intensityHistogram, intersection } from '../../src/similarity/index.js'

const f32 = (...v: number[]): Float32Array => Float32Array.from(v)
const P = f32(0.5, 0.5, 0, 0)
const Q = f32(0, 0.5, 0.5, 0)

describe('histogram distances, hand-computed', () => {
  it('earth mover: Σ|CDF_p − CDF_q| / (bins − 1)', () => {
    // CDFs over the first three bins: P 0.5 1 1, Q 0 0.5 1 → 0.5 + 0.5 + 0 = 1 → 1/3
    expect(emd(P, Q)).toBeCloseTo(1 / 3, 7)
    // all mass from the first bin to the last: 1 + 1 + 1 = 3 → 1
    expect(emd(f32(1, 0, 0, 0), f32(0, 0, 0, 1))).toBeCloseTo(1, 7)
  })

  it('chi-square: ½ Σ (p − q)² / (p + q)', () => {
    // ½ (0.25/0.5 + 0 + 0.25/0.5 + 0) = 0.5
    expect(chiSquare(P, Q)).toBeCloseTo(0.5, 7)
  })

  it('Bhattacharyya (Hellinger form): √(1 − Σ √(p q))', () => {
    // Σ √(p q) = 0 + 0.5 + 0 + 0 = 0.5 → √0.5
    expect(bhattacharyya(P, Q)).toBeCloseTo(Math.SQRT1_2, 7)
  })

  it('intersection: 1 − Σ min(p, q)', () => {
    // Σ min = 0 + 0.5 + 0 + 0 → 0.5
    expect(intersection(P, Q)).toBeCloseTo(0.5, 7)
  })

  it('are 0 for identical histograms, 1 for disjoint ones (emd: when at opposite ends), and symmetric', () => {
    const hist = fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 64 })
      .filter(a => a.reduce((s, x) => s + x, 0) > 0.1)
      .map(a => { const s = a.reduce((x, y) => x + y, 0); return Float32Array.from(a, x => x / s) })
    fc.assert(fc.property(hist, hist, (p, q) => {
      for (const d of ['emd', 'chi2', 'bhattacharyya', 'intersection'] as const) {
        expect(histogramDistance(p, p, d)).toBeCloseTo(0, 3)
        if (p.length === q.length) {
          const v = histogramDistance(p, q, d)
          expect(v).toBeGreaterThanOrEqual(0)
          expect(v).toBeLessThanOrEqual(1)
          expect(histogramDistance(q, p, d)).toBeCloseTo(v, 6)
        }
      }
    }), { numRuns: 50 })
    for (const d of ['chi2', 'bhattacharyya', 'intersection'] as const) {
      expect(histogramDistance(f32(1, 0, 0, 0), f32(0, 1, 0, 0), d)).toBeCloseTo(1, 7)
    }
  })

  it('rejects unequal bins and unknown names with typed errors', () => {
    expect(() => histogramDistance(P, f32(1, 0), 'emd')).toThrow(expect.objectContaining({ name: 'IncomparableFeaturesError' }))
    expect(() => histogramDistance(P, Q, 'l2' as 'emd')).toThrow(expect.objectContaining({ name: 'SimilarityOptionsError' }))
  })
})

describe('intensity histogram', () => {
  it('bins over [lo, hi], counts values outside in the end bins, sums to 1', () => {
    // 4 bins over [0, 8]: width 2. Values: -5 → 0, 0 → 0, 1.9 → 0, 2 → 1, 7.9 → 3, 8 → 3, 100 → 3, 5 → 2
    const h = intensityHistogram(f32(-5, 0, 1.9, 2, 7.9, 8, 100, 5), { slope: 1, intercept: 0 }, 0, 8, 4)
    expect(Array.from(h)).toEqual([3 / 8, 1 / 8, 1 / 8, 3 / 8])
  })

  it('applies the rescale (stored → physical) before binning', () => {
    // stored 0..3, physical = 2·stored − 1 → -1 1 3 5 over [-1, 7] in 4 bins of 2: 0 1 2 3
    const h = intensityHistogram(Int16Array.from([0, 1, 2, 3]), { slope: 2, intercept: -1 }, -1, 7, 4)
    expect(Array.from(h)).toEqual([0.25, 0.25, 0.25, 0.25])
  })
})
