import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { correlationRatio, ncc, nmi, similarity } from '../../src/similarity/index.js'

const RUNS = { numRuns: 60 }

function sd (a: Float32Array): number {
  let m = 0
  for (const v of a) m += v
  m /= a.length
  let s = 0
  for (const v of a) s += (v - m) ** 2
  return Math.sqrt(s / a.length)
}

/** Images of 8…512 voxels in [0, 1], not (nearly) constant. */
const image = fc.float32Array({ minLength: 8, maxLength: 512, min: 0, max: 1, noNaN: true, noDefaultInfinity: true })
  .filter(a => sd(a) > 0.01)

/** Two images of the same length. */
const pair = fc.integer({ min: 8, max: 512 }).chain(n => fc.tuple(
  fc.float32Array({ minLength: n, maxLength: n, min: 0, max: 1, noNaN: true, noDefaultInfinity: true }),
  fc.float32Array({ minLength: n, maxLength: n, min: 0, max: 1, noNaN: true, noDefaultInfinity: true })
)).filter(([a, b]) => sd(a) > 0.01 && sd(b) > 0.01)

const gain = fc.double({ min: 0.1, max: 10, noNaN: true })
const offset = fc.double({ min: -100, max: 100, noNaN: true })
const linear = (a: Float32Array, alpha: number, beta: number): Float32Array => a.map(v => alpha * v + beta)

/**
 * How far NCC may move when an image x becomes a·x + b stored as float32:
 * each value is rounded by up to half an ulp of |b| + a (2^-24 relative), an
 * error of about that much over the new spread a·sd(x). Ten times that, and
 * never less than what `toBeCloseTo(r, 4)` allows: a large offset on a barely
 * varying image is a real change of its data, not a failure of the invariance.
 */
function float32Tolerance (x: Float32Array, alpha: number, beta: number): number {
  return Math.max(5e-5, 10 * (Math.abs(beta) + alpha) * 2 ** -24 / (alpha * sd(x)))
}

describe('NCC properties', () => {
  it('stays invariant on the counterexample fast-check found once (a large offset on a barely varying image)', () => {
    const a = Float32Array.from([0, 0, 0.2513653337955475, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    const b = Float32Array.from([0, 0, 0, 0.0009729232406243682, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.04014693573117256])
    const [alpha, beta] = [0.10194239878287562, 63.99648094177238]
    const r = ncc(a, b)
    const moved = Math.abs(ncc(a, linear(b, alpha, beta)) - r)
    // The float32 rounding of 0.1·b + 64 moves it past toBeCloseTo(r, 4), within the rounding bound.
    expect(moved).toBeGreaterThan(5e-5)
    expect(moved).toBeLessThan(float32Tolerance(b, alpha, beta))
    // Without the offset nothing large is rounded: invariant to 4 digits.
    expect(ncc(a, linear(b, alpha, 0))).toBeCloseTo(r, 4)
  })

  it('is 1 for identical images and for any positive linear change a·x + b', () => {
    fc.assert(fc.property(image, gain, offset, (a, alpha, beta) => {
      expect(ncc(a, a)).toBeCloseTo(1, 9)
      expect(ncc(a, linear(a, alpha, beta))).toBeCloseTo(1, 4)
      expect(ncc(a, linear(a, -alpha, beta))).toBeCloseTo(-1, 4)
    }), RUNS)
  })

  it('is invariant to a positive linear change of either image, symmetric, within [-1, 1]', () => {
    fc.assert(fc.property(pair, gain, offset, ([a, b], alpha, beta) => {
      const r = ncc(a, b)
      expect(r).toBeGreaterThanOrEqual(-1)
      expect(r).toBeLessThanOrEqual(1)
      expect(Math.abs(ncc(a, linear(b, alpha, beta)) - r)).toBeLessThan(float32Tolerance(b, alpha, beta))
      expect(Math.abs(ncc(linear(a, alpha, beta), b) - r)).toBeLessThan(float32Tolerance(a, alpha, beta))
      expect(ncc(b, a)).toBeCloseTo(r, 9)
    }), RUNS)
  })
})

describe('NMI properties', () => {
  const bins = fc.integer({ min: 2, max: 64 })

  it('is 2 (its maximum) for identical images', () => {
    fc.assert(fc.property(image, bins, (a, b) => {
      expect(nmi(a, a, { bins: b })).toBeCloseTo(2, 9)
    }), RUNS)
  })

  it('is symmetric, within [1, 2], and never above the identical score', () => {
    fc.assert(fc.property(pair, bins, ([a, b], k) => {
      const v = nmi(a, b, { bins: k })
      expect(nmi(b, a, { bins: k })).toBeCloseTo(v, 9)
      expect(v).toBeGreaterThanOrEqual(1)
      expect(v).toBeLessThanOrEqual(2)
      expect(v).toBeLessThanOrEqual(nmi(a, a, { bins: k }) + 1e-12)
    }), RUNS)
  })
})

describe('correlation ratio properties', () => {
  // X on integer levels 0…15, binned into 64 classes over its [min, max]:
  // a class is at most 15/64 < 1 wide, so distinct levels never share one.
  const levels = fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 8, maxLength: 400 })
    .filter(l => new Set(l).size > 1)
  const table = fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 16, maxLength: 16 })
    .filter(t => new Set(t).size > 1)

  it('is 1 when Y is any deterministic function of X (monotonic or not), up to binning', () => {
    fc.assert(fc.property(levels, table, (l, t) => {
      const x = Float32Array.from(l)
      const y = Float32Array.from(l, v => t[v] as number)
      const yMonotonic = Float32Array.from(l, v => Math.exp(v / 4) - 3)
      if (sd(y) > 0) expect(correlationRatio(x, y, { bins: 64 })).toBeCloseTo(1, 6)
      expect(correlationRatio(x, yMonotonic, { bins: 64 })).toBeCloseTo(1, 6)
      // identical images, on levels: η(X | X) = 1, the maximum
      expect(correlationRatio(x, x, { bins: 64 })).toBeCloseTo(1, 9)
    }), RUNS)
  })

  it('is invariant to a linear change of Y (either sign) and within [0, 1]', () => {
    fc.assert(fc.property(pair, gain, offset, fc.boolean(), ([x, y], alpha, beta, negative) => {
      const v = correlationRatio(x, y)
      expect(v).toBeGreaterThanOrEqual(0)
      expect(v).toBeLessThanOrEqual(1)
      expect(correlationRatio(x, linear(y, negative ? -alpha : alpha, beta))).toBeCloseTo(v, 4)
    }), RUNS)
  })

  it('for identical continuous images loses at most the within-class variance: η ≥ 1 − w²/(4·Var)', () => {
    fc.assert(fc.property(image, fc.integer({ min: 2, max: 64 }), (a, bins) => {
      let min = Infinity
      let max = -Infinity
      for (const v of a) { min = Math.min(min, v); max = Math.max(max, v) }
      const w = (max - min) / bins
      const eta = correlationRatio(a, a, { bins })
      expect(eta).toBeGreaterThanOrEqual(1 - w * w / (4 * sd(a) ** 2) - 1e-9)
      expect(eta).toBeLessThanOrEqual(1)
    }), RUNS)
  })
})

describe('masks', () => {
  it('give the same score as the measure over the selected voxels only', () => {
    const masked = fc.integer({ min: 16, max: 256 }).chain(n => fc.tuple(
      fc.float32Array({ minLength: n, maxLength: n, min: 0, max: 1, noNaN: true, noDefaultInfinity: true }),
      fc.float32Array({ minLength: n, maxLength: n, min: 0, max: 1, noNaN: true, noDefaultInfinity: true }),
      fc.uint8Array({ minLength: n, maxLength: n, min: 0, max: 1 })
    )).filter(([a, b, m]) => {
      const pick = (x: Float32Array): Float32Array => x.filter((_, i) => m[i] === 1)
      return pick(a).length >= 4 && sd(pick(a)) > 0.01 && sd(pick(b)) > 0.01
    })
    fc.assert(fc.property(masked, ([a, b, mask]) => {
      const pick = (x: Float32Array): Float32Array => x.filter((_, i) => mask[i] === 1)
      for (const m of ['ncc', 'nmi', 'cr'] as const) {
        expect(similarity(m, a, b, { mask, bins: 16 })).toBeCloseTo(similarity(m, pick(a), pick(b), { bins: 16 }), 9)
      }
    }), RUNS)
  })
})
