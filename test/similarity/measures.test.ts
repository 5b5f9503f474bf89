import { describe, expect, it } from 'vitest'
import {
  MEASURE_RANGES, correlationRatio, ncc, nmi, prepareMeasure, similarity
} from '../../src/similarity/index.js'

const f32 = (...v: number[]): Float32Array => Float32Array.from(v)

// Eight voxels = a 2×2×2 volume, i fastest.
const A = f32(1, 2, 3, 4, 5, 6, 7, 8)

describe('NCC, hand-computed on 2×2×2 volumes', () => {
  it('is 39/42 for a shuffled ramp', () => {
    // a − ā = -3.5 -2.5 -1.5 -0.5 0.5 1.5 2.5 3.5   (ā = 4.5)
    // b − b̄ = -3.5 -1.5 -2.5  0.5 -0.5 2.5 1.5 3.5  (b̄ = 36/8 = 4.5)
    // Σ products = 12.25 + 3.75 + 3.75 - 0.25 - 0.25 + 3.75 + 3.75 + 12.25 = 39
    // Σ (a − ā)² = Σ (b − b̄)² = 2·(12.25 + 6.25 + 2.25 + 0.25) = 42
    expect(ncc(A, f32(1, 3, 2, 5, 4, 7, 6, 8))).toBeCloseTo(39 / 42, 12)
  })

  it('is 1 for b = 2a and -1 for the reversed ramp', () => {
    expect(ncc(A, f32(2, 4, 6, 8, 10, 12, 14, 16))).toBeCloseTo(1, 12)
    expect(ncc(A, f32(8, 7, 6, 5, 4, 3, 2, 1))).toBeCloseTo(-1, 12)
  })

  it('is 0 for uncorrelated halves and for a constant image', () => {
    // a − ā = -0.5 ×4, +0.5 ×4; b − b̄ = -.5 -.5 .5 .5 -.5 -.5 .5 .5: Σ products = 0
    expect(ncc(f32(0, 0, 0, 0, 1, 1, 1, 1), f32(0, 0, 1, 1, 0, 0, 1, 1))).toBe(0)
    expect(ncc(A, f32(3, 3, 3, 3, 3, 3, 3, 3))).toBe(0)
  })

  it('compares only the masked voxels', () => {
    // voxels 0..3: a = 1 2 3 4, b = 4 3 2 1 → -1; the other half would say +1
    const b = f32(4, 3, 2, 1, 5, 6, 7, 8)
    const mask = Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0])
    expect(ncc(A, b, { mask })).toBeCloseTo(-1, 12)
  })
})

describe('NMI (Studholme), hand-computed', () => {
  const h = (...p: number[]): number => -p.reduce((s, x) => s + (x > 0 ? x * Math.log(x) : 0), 0)

  it('is 2 for identical images and 1 for independent halves', () => {
    expect(nmi(A, A, { bins: 8 })).toBeCloseTo(2, 12)
    // 2 bins each; joint counts (0,0) (0,1) (1,0) (1,1) = 2 each:
    // H(A) = H(B) = ln 2, H(A,B) = ln 4 → NMI = 2 ln 2 / ln 4 = 1
    expect(nmi(f32(0, 0, 0, 0, 1, 1, 1, 1), f32(0, 0, 1, 1, 0, 0, 1, 1), { bins: 2 })).toBeCloseTo(1, 12)
  })

  it('matches the entropies of a 3/1/4 joint histogram', () => {
    const a = f32(0, 0, 0, 0, 1, 1, 1, 1)
    const b = f32(0, 0, 0, 1, 1, 1, 1, 1)
    // A marginal 4/8, 4/8; B marginal 3/8, 5/8; joint (0,0)=3 (0,1)=1 (1,1)=4
    // H(A) = ln 2 = 0.693147; H(B) = 0.375·0.980829 + 0.625·0.470004 = 0.661563
    // H(A,B) = 0.375·0.980829 + 0.125·2.079442 + 0.5·0.693147 = 0.974315
    // NMI = 1.354710 / 0.974315 = 1.39042
    const expected = (h(4 / 8, 4 / 8) + h(3 / 8, 5 / 8)) / h(3 / 8, 1 / 8, 4 / 8)
    expect(expected).toBeCloseTo(1.39042, 5)
    expect(nmi(a, b, { bins: 2 })).toBeCloseTo(expected, 12)
    expect(nmi(b, a, { bins: 2 })).toBeCloseTo(expected, 12)
  })

  it('bins each image over its own [min, max], the maximum in the last bin', () => {
    // 4 bins over [1, 8], width 7/4: (v − 1)·4/7 → bins 0 0 1 1 2 2 3 3 (8 → 4.0 falls in bin 3, closed)
    // b = 10·a is binned the same way, so NMI = 2
    expect(nmi(A, f32(10, 20, 30, 40, 50, 60, 70, 80), { bins: 4 })).toBeCloseTo(2, 12)
  })

  it('is 1 when both images are constant (no information)', () => {
    expect(nmi(f32(1, 1, 1, 1), f32(5, 5, 5, 5))).toBe(1)
  })
})

describe('correlation ratio (Roche et al.), hand-computed', () => {
  it('is 16/21 for a ramp explained by two classes', () => {
    // X classes: 0 0 0 0 | 1 1 1 1; Y = 1..8; E(Y|X) = 2.5 | 6.5
    // Var(Y) = 42/8 = 5.25; residuals ±1.5 ±0.5 in each class: Σ² = 2·5 = 10 → 10/8 = 1.25
    // η = 1 − 1.25/5.25 = 16/21
    expect(correlationRatio(f32(0, 0, 0, 0, 1, 1, 1, 1), A, { bins: 2 })).toBeCloseTo(16 / 21, 12)
  })

  it('is 1 for any function of the classes, 0 when the class means are equal', () => {
    // Y = f(X) with f non-monotonic: 0 → 7, 1 → -2
    expect(correlationRatio(f32(0, 0, 0, 0, 1, 1, 1, 1), f32(7, 7, 7, 7, -2, -2, -2, -2), { bins: 2 })).toBeCloseTo(1, 12)
    // class means both 2.5
    expect(correlationRatio(f32(0, 0, 0, 0, 1, 1, 1, 1), f32(1, 2, 3, 4, 4, 3, 2, 1), { bins: 2 })).toBe(0)
  })

  it('is not symmetric, and 0 for a constant Y', () => {
    const x = f32(0, 0, 0, 0, 1, 1, 1, 1)
    // η(X | Y), Y = 1..8 in 2 bins over [1, 8] (width 3.5): bins 0 0 0 0 1 1 1 1 → X is a function: 1
    expect(correlationRatio(A, x, { bins: 2 })).toBeCloseTo(1, 12)
    expect(correlationRatio(x, A, { bins: 2 })).toBeCloseTo(16 / 21, 12)
    expect(correlationRatio(x, f32(2, 2, 2, 2, 2, 2, 2, 2), { bins: 2 })).toBe(0)
  })
})

describe('measure plumbing', () => {
  it('documents each range as [worst, best]', () => {
    expect(MEASURE_RANGES).toEqual({ ncc: [-1, 1], nmi: [1, 2], cr: [0, 1] })
  })

  it('prepared and one-off scores agree, and a prepared measure is reusable', () => {
    const b = f32(1, 3, 2, 5, 4, 7, 6, 8)
    for (const m of ['ncc', 'nmi', 'cr'] as const) {
      const p = prepareMeasure(m, A, { bins: 4 })
      const first = p.score(b)
      expect(p.score(A)).toBeCloseTo(similarity(m, A, A, { bins: 4 }), 12)
      expect(p.score(b)).toBe(first)
      expect(first).toBeCloseTo(similarity(m, A, b, { bins: 4 }), 12)
    }
  })

  it('rejects bad arguments with typed errors', () => {
    const name = (f: () => unknown): string => { try { f(); return 'no error' } catch (err) { return (err as Error).name } }
    expect(name(() => ncc(A, f32(1, 2)))).toBe('IncomparableFeaturesError')
    expect(name(() => ncc(A, f32(1, 2, 3, 4, 5, 6, 7, NaN)))).toBe('SimilarityOptionsError')
    expect(name(() => nmi(A, A, { bins: 1 }))).toBe('SimilarityOptionsError')
    expect(name(() => nmi(A, A, { bins: 257 }))).toBe('SimilarityOptionsError')
    expect(name(() => ncc(A, A, { mask: new Uint8Array(8) }))).toBe('SimilarityOptionsError')
    expect(name(() => ncc(A, A, { mask: new Uint8Array(3) }))).toBe('IncomparableFeaturesError')
    expect(name(() => prepareMeasure('ssd' as 'ncc', A))).toBe('SimilarityOptionsError')
    expect(name(() => ncc(new Float64Array(8) as unknown as Float32Array, A))).toBe('SimilarityOptionsError')
  })
})
