/** Pure pieces: functional-group lookup, RT Dose offsets, the scaling choice, bit masking, the error catalogue. */
import { describe, expect, it } from 'vitest'
import * as errors from '../../src/assembly/errors.js'
import { objectInfo } from '../../src/assembly/header.js'
import type { FrameInfo, PixelFormat } from '../../src/assembly/header.js'
import { decodeFrame } from '../../src/assembly/pixels.js'
import { scalingPlan } from '../../src/assembly/scaling.js'

const mono = { Rows: 2, Columns: 2, BitsAllocated: 16, BitsStored: 16, HighBit: 15, PixelRepresentation: 0, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2' }
const format = (f: Partial<PixelFormat>): PixelFormat => ({
  rows: 2, columns: 2, samplesPerPixel: 1, photometric: 'MONOCHROME2', bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 0, ...f
})
const frame = (slope: number, intercept: number): FrameInfo => ({
  source: 0, frame: 0, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0], pixelSpacing: [1, 1], sliceThickness: undefined, slope, intercept
})

describe('functional groups and frame positions', () => {
  it('takes per-frame macros before shared ones (PS3.3 C.7.6.16)', () => {
    const info = objectInfo({
      ...mono,
      NumberOfFrames: 2,
      SharedFunctionalGroupsSequence: [{
        PlaneOrientationSequence: [{ ImageOrientationPatient: [0, 1, 0, 0, 0, -1] }],
        PixelMeasuresSequence: [{ PixelSpacing: [0.5, 0.6], SliceThickness: 3 }],
        PixelValueTransformationSequence: [{ RescaleSlope: 2, RescaleIntercept: -10 }]
      }],
      PerFrameFunctionalGroupsSequence: [
        { PlanePositionSequence: [{ ImagePositionPatient: [1, 2, 3] }] },
        { PlanePositionSequence: [{ ImagePositionPatient: [4, 2, 3] }], PixelValueTransformationSequence: [{ RescaleSlope: 0.5, RescaleIntercept: 1 }] }
      ]
    }, '1.2.840.10008.1.2.1', 0, 'x')
    expect(info.frames.map(f => [f.position, f.slope, f.intercept])).toEqual([[[1, 2, 3], 2, -10], [[4, 2, 3], 0.5, 1]])
    expect(info.frames[1]!.orientation).toEqual([0, 1, 0, 0, 0, -1])
    expect(info.frames[1]!.pixelSpacing).toEqual([0.5, 0.6])
    // Frames with different rescales land in float32.
    expect(scalingPlan(info.format, info.frames)).toMatchObject({ type: 'float32', applyRescale: true })
  })

  it('places RT Dose frames by GridFrameOffsetVector, relative or absolute (PS3.3 C.8.8.3.2)', () => {
    const base = { ...mono, NumberOfFrames: 3, ImageOrientationPatient: [1, 0, 0, 0, -1, 0], ImagePositionPatient: [0, 0, 50], PixelSpacing: [2, 2], DoseGridScaling: 0.001 }
    const relative = objectInfo({ ...base, GridFrameOffsetVector: [0, 2, 4] }, '1.2.840.10008.1.2', 0, 'x')
    const absolute = objectInfo({ ...base, GridFrameOffsetVector: [50, 48, 46] }, '1.2.840.10008.1.2', 0, 'x')
    // Relative offsets run along the normal: rows (1,0,0) × columns (0,−1,0) = (0,0,−1).
    expect(relative.frames.map(f => f.position[2])).toEqual([50, 48, 46])
    // Absolute offsets are patient z coordinates.
    expect(absolute.frames.map(f => f.position[2])).toEqual([50, 48, 46])
    expect(relative.frames[0]!.slope).toBe(0.001)
    expect(() => objectInfo({ ...base }, '1.2.840.10008.1.2', 0, 'x')).toThrow(expect.objectContaining({ name: 'MissingGeometryError' }))
  })
})

describe('scaling choice', () => {
  it('follows the documented rules', () => {
    expect(scalingPlan(format({}), [frame(1, 0)])).toEqual({ type: 'uint16', applyRescale: false, sclSlope: 1, sclInter: 0 })
    expect(scalingPlan(format({ bitsStored: 12, highBit: 11 }), [frame(1, -1024)])).toEqual({ type: 'int16', applyRescale: true, sclSlope: 1, sclInter: 0 })
    expect(scalingPlan(format({ pixelRepresentation: 1 }), [frame(1, -1024)])).toEqual({ type: 'int16', applyRescale: false, sclSlope: 1, sclInter: -1024 })
    expect(scalingPlan(format({ bitsStored: 15, highBit: 14 }), [frame(2, 0)])).toEqual({ type: 'uint16', applyRescale: true, sclSlope: 1, sclInter: 0 })
    expect(scalingPlan(format({}), [frame(1, 5)])).toEqual({ type: 'uint16', applyRescale: false, sclSlope: 1, sclInter: 5 })
    expect(scalingPlan(format({}), [frame(1.25, 0)])).toMatchObject({ type: 'float32', applyRescale: true })
    expect(scalingPlan(format({}), [frame(1, 0.5)])).toMatchObject({ type: 'float32', applyRescale: true })
    expect(scalingPlan(format({ bitsAllocated: 32, bitsStored: 32, highBit: 31 }), [frame(1e-6, 0)])).toMatchObject({ type: 'float32' })
  })
})

describe('stored bits', () => {
  it('masks bits above HighBit and sign-extends BitsStored (PS3.5 §8.1.1)', () => {
    const raw = new Uint16Array([0xf123, 0x0fff, 0x0800, 0x07ff])
    const unsigned = decodeFrame([new Uint8Array(raw.buffer)], 0, 1, format({ bitsStored: 12, highBit: 11 }), 'native-le', 'x')
    expect(Array.from(unsigned)).toEqual([0x123, 0xfff, 0x800, 0x7ff])
    const signed = decodeFrame([new Uint8Array(raw.buffer)], 0, 1, format({ bitsStored: 12, highBit: 11, pixelRepresentation: 1 }), 'native-le', 'x')
    expect(Array.from(signed)).toEqual([0x123, -1, -2048, 2047])
    const shifted = decodeFrame([new Uint8Array(new Uint16Array([0x0ff0, 0, 0, 0]).buffer)], 0, 1, format({ bitsStored: 8, highBit: 11 }), 'native-le', 'x')
    expect(shifted[0]).toBe(0xff)
  })

  it('unpacks 1-bit frames packed back to back, and swaps big-endian words', () => {
    const bits = decodeFrame([new Uint8Array([0b10110100, 0])], 1, 2, format({ bitsAllocated: 1, bitsStored: 1, highBit: 0 }), 'native-le', 'x')
    expect(Array.from(bits)).toEqual([1, 1, 0, 1])
    const be = decodeFrame([new Uint8Array([0x01, 0x02, 0, 0, 0, 0, 0xff, 0xfe])], 0, 1, format({ pixelRepresentation: 1 }), 'native-be', 'x')
    expect(Array.from(be)).toEqual([0x0102, 0, 0, -2])
    expect(() => decodeFrame([new Uint8Array(6)], 0, 1, format({}), 'native-le', 'x')).toThrow(expect.objectContaining({ name: 'InvalidDicomError' }))
  })
})

describe('error catalogue', () => {
  it('every error class carries its own name, statically and on instances', () => {
    const classes = Object.entries(errors).filter(([, v]) => typeof v === 'function')
    expect(classes.length).toBeGreaterThanOrEqual(12)
    for (const [key, cls] of classes) expect((cls as { name: string }).name).toBe(key)
    expect(new errors.MissingSliceError(2, 10, 2.5, 7.5).name).toBe('MissingSliceError')
    expect(new errors.MixedSizeError('Rows', '1', '2', 'f')).toBeInstanceOf(errors.AssemblyError)
    expect(new errors.UnsupportedTransferSyntaxError('f', '1.2', 'why').transferSyntaxUID).toBe('1.2')
  })
})
