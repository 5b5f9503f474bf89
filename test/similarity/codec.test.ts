import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  FEATURES_VERSION, MAX_ENCODED_FEATURES_BYTES, decodeFeatures, encodeFeatures, extractFeatures
} from '../../src/similarity/index.js'
import type { Features } from '../../src/similarity/index.js'
import { crc32 } from '../../src/similarity/crc32.js'
import { axial, ctVolume, randomPhantom } from './phantom.js'

const features = extractFeatures(ctVolume(randomPhantom(5), axial([30, 28, 24], [3, 3, 4]), { noiseSigma: 10 }, 'HEART'))
const small = extractFeatures(ctVolume(randomPhantom(6), axial([16, 16, 16], [5, 5, 5])), { thumbnailSize: 8, histogramBins: 8 })

const errorName = (f: () => unknown): string => { try { f(); return 'no error' } catch (err) { return (err as Error).name } }

/** Re-seals a modified record with a valid checksum, to reach the checks behind it. */
function reseal (bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true)
  return out
}

const HEADER = 52

describe('feature encoding', () => {
  it('CRC-32 is the ISO-HDLC one (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xCBF43926)
  })

  it('round-trips uint16 thumbnails within half a quantization step, the rest exactly', () => {
    const bytes = encodeFeatures(features)
    // 52 header + 'CT' + 'HEART' + 64·4 histogram + 32³·2 thumbnail + 4 CRC
    expect(bytes.length).toBe(52 + 2 + 5 + 256 + 65536 + 4)
    expect(bytes[4]).toBe(FEATURES_VERSION)
    const back = decodeFeatures(bytes)
    expect(back.keys).toEqual({ modality: 'CT', bodyPart: 'HEART' })
    expect(back.range).toEqual(features.range)
    expect(back.extent).toEqual(features.extent)
    expect(back.size).toBe(32)
    expect(Array.from(back.histogram)).toEqual(Array.from(features.histogram))
    let worst = 0
    for (let i = 0; i < back.thumbnail.length; i++) worst = Math.max(worst, Math.abs((back.thumbnail[i] as number) - (features.thumbnail[i] as number)))
    expect(worst).toBeLessThanOrEqual(0.5 / 65535 + 1e-7)
    expect(back.thumbnailMin).toBeCloseTo(features.thumbnailMin, 4)
    expect(back.thumbnailMax).toBeCloseTo(features.thumbnailMax, 4)
  })

  it('round-trips float32 thumbnails exactly', () => {
    const back = decodeFeatures(encodeFeatures(features, { thumbnail: 'float32' }))
    expect(back).toEqual(features)
  })

  it('decodes from an unaligned view into a larger buffer', () => {
    const bytes = encodeFeatures(small)
    const host = new Uint8Array(bytes.length + 7)
    host.set(bytes, 3)
    expect(decodeFeatures(host.subarray(3, 3 + bytes.length))).toEqual(decodeFeatures(bytes))
  })

  it('fits the largest features under the limit and refuses longer input before parsing', () => {
    const big = extractFeatures(ctVolume(randomPhantom(1), axial([20, 20, 20], [4, 4, 4]), {}, 'ABDOMENPELVIS'), { thumbnailSize: 64, histogramBins: 256 })
    const bytes = encodeFeatures({ ...big, keys: { modality: 'SEG_OTHER_TYPES', bodyPart: 'X'.repeat(16) } }, { thumbnail: 'float32' })
    expect(bytes.length).toBeLessThanOrEqual(MAX_ENCODED_FEATURES_BYTES)
    expect(decodeFeatures(bytes).size).toBe(64)
    expect(errorName(() => decodeFeatures(new Uint8Array(MAX_ENCODED_FEATURES_BYTES + 1)))).toBe('FeaturesTooLargeError')
  })

  it('rejects every single-byte corruption with a typed error', () => {
    const bytes = encodeFeatures(small)
    const names = new Set(['InvalidFeaturesError', 'UnsupportedFeaturesVersionError'])
    fc.assert(fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const bad = bytes.slice()
      bad[at] = (bad[at] as number) ^ xor
      expect(names.has(errorName(() => decodeFeatures(bad)))).toBe(true)
    }), { numRuns: 200 })
  })

  it('rejects truncated, extended, mislabelled and out-of-range records', () => {
    const bytes = encodeFeatures(small)
    const set = (f: (v: DataView, b: Uint8Array) => void): Uint8Array => {
      const b = bytes.slice()
      f(new DataView(b.buffer), b)
      return reseal(b)
    }
    const keyAt = HEADER // modality 'CT' starts right after the header
    const histAt = HEADER + (bytes[10] as number) + (bytes[11] as number) // after modality and body part
    expect(histAt).toBe(HEADER + 'CT'.length + 'CHEST'.length)
    const thumbAt = histAt + 4 * 8
    const cases: Array<[string, Uint8Array | unknown, string]> = [
      ['not bytes', 'DM2F', 'InvalidFeaturesError'],
      ['empty', new Uint8Array(0), 'InvalidFeaturesError'],
      ['truncated', bytes.subarray(0, bytes.length - 1), 'InvalidFeaturesError'],
      ['extended', reseal(Uint8Array.from([...bytes, 0])), 'InvalidFeaturesError'],
      ['magic', set((_, b) => { b[0] = 0x58 }), 'InvalidFeaturesError'],
      ['version', set(v => v.setUint8(4, 2)), 'UnsupportedFeaturesVersionError'],
      ['flags', set(v => v.setUint8(5, 3)), 'InvalidFeaturesError'],
      ['reserved', set(v => v.setUint8(7, 1)), 'InvalidFeaturesError'],
      ['size 0', set(v => v.setUint8(6, 0)), 'InvalidFeaturesError'],
      ['size too big for the length', set(v => v.setUint8(6, 9)), 'InvalidFeaturesError'],
      ['lower-case modality', set((_, b) => { b[keyAt] = 0x63 }), 'InvalidFeaturesError'],
      ['empty modality', reseal(Uint8Array.from([...bytes.subarray(0, 10), 0, ...bytes.subarray(11, HEADER), ...bytes.subarray(HEADER + 2)])), 'InvalidFeaturesError'],
      ['range lo = hi', set(v => v.setFloat64(12, v.getFloat64(20, true), true)), 'InvalidFeaturesError'],
      ['range NaN', set(v => v.setFloat64(20, NaN, true)), 'InvalidFeaturesError'],
      ['extent 0', set(v => v.setFloat64(28, 0, true)), 'InvalidFeaturesError'],
      ['histogram sum', set(v => v.setFloat32(histAt, v.getFloat32(histAt, true) + 0.1, true)), 'InvalidFeaturesError'],
      ['histogram negative', set(v => v.setFloat32(histAt, -0.01, true)), 'InvalidFeaturesError'],
      ['bad checksum', (() => { const b = bytes.slice(); b[b.length - 1] = (b[b.length - 1] as number) ^ 1; return b })(), 'InvalidFeaturesError']
    ]
    for (const [label, input, name] of cases) expect([label, errorName(() => decodeFeatures(input as Uint8Array))]).toEqual([label, name])
    // float32 thumbnails: NaN and values outside [0, 1] are refused
    const f32 = encodeFeatures(small, { thumbnail: 'float32' })
    for (const value of [NaN, 1.5, -0.25, Infinity]) {
      const b = f32.slice()
      new DataView(b.buffer).setFloat32(thumbAt, value, true)
      expect(errorName(() => decodeFeatures(reseal(b)))).toBe('InvalidFeaturesError')
    }
  })

  it('refuses to encode malformed features', () => {
    const bad: Array<Partial<Features>> = [
      { size: 7 },
      { thumbnail: new Float32Array(10) },
      { histogram: new Float32Array(8) },
      { keys: { modality: 'ct', bodyPart: '' } },
      { range: [1, 0] },
      { thumbnailMax: 2 }
    ]
    for (const patch of bad) expect(errorName(() => encodeFeatures({ ...small, ...patch }))).toBe('InvalidFeaturesError')
    expect(errorName(() => encodeFeatures(small, { thumbnail: 'int8' as 'uint16' }))).toBe('SimilarityOptionsError')
  })
})
