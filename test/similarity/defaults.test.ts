import { describe, expect, it } from 'vitest'
import {
  CT_RANGE, DEFAULT_HISTOGRAM_BINS, DEFAULT_MEASURE_BINS, DEFAULT_THUMBNAIL_SIZE, MAX_ENCODED_FEATURES_BYTES,
  MAX_THUMBNAIL_SIZE, PREFILTER_FACTOR, PREFILTER_MIN, ROBUST_PERCENTILES, defaultPrefilterKeep, encodeFeatures,
  extractFeatures, prepareMeasure
} from '../../src/similarity/index.js'

describe('documented defaults', () => {
  it('are the values the module docs state', () => {
    expect(DEFAULT_HISTOGRAM_BINS).toBe(64)
    expect(CT_RANGE).toEqual([-1024, 3071])
    expect(ROBUST_PERCENTILES).toEqual([0.5, 99.5])
    expect(DEFAULT_THUMBNAIL_SIZE).toBe(32)
    expect(MAX_THUMBNAIL_SIZE).toBe(64)
    expect(DEFAULT_MEASURE_BINS).toBe(16)
    expect([PREFILTER_FACTOR, PREFILTER_MIN]).toEqual([10, 200])
    expect(defaultPrefilterKeep(10)).toBe(200)
    expect(MAX_ENCODED_FEATURES_BYTES).toBeLessThan(1.1 * 1024 * 1024)
  })

  it('are what extraction and the measures use when no option is given', () => {
    const f = extractFeatures({ data: new Int16Array(27).fill(40), dims: [3, 3, 3], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], modality: 'CT' })
    expect(f.size).toBe(DEFAULT_THUMBNAIL_SIZE)
    expect(f.histogram.length).toBe(DEFAULT_HISTOGRAM_BINS)
    expect(encodeFeatures(f).length).toBe(52 + 2 + 4 * 64 + 2 * 32 ** 3 + 4)
    // 16 bins over [0, 15]: values 0…15 land in 16 classes, so η(Y | X) = 1 for Y a function of them;
    // with 8 bins two values share a class and a non-monotonic Y loses variance
    const x = Float32Array.from({ length: 16 }, (_, i) => i)
    const y = Float32Array.from({ length: 16 }, (_, i) => (i % 2) * 10)
    expect(prepareMeasure('cr', x).score(y)).toBeCloseTo(1, 12)
    expect(prepareMeasure('cr', x, { bins: 8 }).score(y)).toBeLessThan(0.5)
  })
})
