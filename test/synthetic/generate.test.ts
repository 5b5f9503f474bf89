import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PAPER_SERIES, SOP_CLASS, TRANSFER_SYNTAX, expectedSlices, generateSeries } from '../../src/synthetic/index.js'
import type { SeriesOptions } from '../../src/synthetic/index.js'
import { readNatural } from './read.js'

const UID = /^2\.25\.(0|[1-9]\d*)$/

function pixelsOf (ds: Record<string, unknown>, signed: boolean): Int16Array | Uint16Array {
  const buf = (ds.PixelData as ArrayBuffer[])[0] as ArrayBuffer
  return signed ? new Int16Array(buf) : new Uint16Array(buf)
}

describe('generateSeries', () => {
  it('writes a CT series whose files dcmjs reads back with every module filled in', () => {
    const opts: SeriesOptions = { seed: 11, slices: 5 }
    const { files, meta } = generateSeries(opts)
    expect(files).toHaveLength(5)
    expect(meta.sopClassUID).toBe(SOP_CLASS.CT)
    const expected = expectedSlices(opts)
    files.forEach((file, k) => {
      const { meta: fmi, ds } = readNatural(file.bytes)
      expect(fmi.TransferSyntaxUID).toBe(TRANSFER_SYNTAX['explicit-le'])
      expect(fmi.MediaStorageSOPInstanceUID).toBe(ds.SOPInstanceUID)
      expect(ds.SOPClassUID).toBe(SOP_CLASS.CT)
      for (const key of ['SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID', 'FrameOfReferenceUID']) {
        const value = ds[key] as string
        expect(value).toMatch(UID)
        expect(value.length).toBeLessThanOrEqual(64)
      }
      expect(ds.SeriesInstanceUID).toBe(meta.seriesInstanceUID)
      expect(ds.Modality).toBe('CT')
      expect(ds.ImagePositionPatient).toEqual(meta.positions[k])
      expect(ds.ImageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0])
      expect(ds.PixelSpacing).toEqual([0.8, 0.7])
      expect(ds.SliceThickness).toBe(2.5)
      expect(ds.SpacingBetweenSlices).toBeUndefined()
      expect([ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation]).toEqual([40, 48, 16, 16, 1])
      expect([ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType]).toEqual([1, -1024, 'HU'])
      // Identifying attributes carry (fake) values for de-identification to remove.
      expect(ds.PatientName).toEqual([{ Alphabetic: meta.identity.patientName }])
      for (const key of ['PatientID', 'PatientBirthDate', 'AccessionNumber', 'InstitutionName', 'StudyDate', 'ReferringPhysicianName', 'StationName']) {
        expect(String(ds[key] as string).length).toBeGreaterThan(0)
      }
      expect(Array.from(pixelsOf(ds, true))).toEqual(Array.from(expected[k] as Int16Array))
    })
    // Consecutive positions are one true step apart along the normal.
    const [p0, p1] = [meta.positions[0]!, meta.positions[1]!]
    expect(Math.hypot(p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2])).toBeCloseTo(2.5, 6)
  })

  it('has a phantom with air, body and bone in Hounsfield units after rescale', () => {
    const [mid] = expectedSlices({ slices: 1, noiseSigma: 0 }) as [Int16Array]
    const hu = new Set(Array.from(mid, v => v - 1024))
    expect(hu.has(-1000)).toBe(true)
    expect(hu.has(40)).toBe(true)
    expect(hu.has(900)).toBe(true)
  })

  it('is deterministic with a seed, random without', () => {
    const a = generateSeries({ seed: 'x', slices: 2 })
    const b = generateSeries({ seed: 'x', slices: 2 })
    const c = generateSeries({ seed: 'y', slices: 2 })
    expect(a.files.map(f => Buffer.from(f.bytes).toString('hex'))).toEqual(b.files.map(f => Buffer.from(f.bytes).toString('hex')))
    expect(c.meta.seriesInstanceUID).not.toBe(a.meta.seriesInstanceUID)
    expect(c.meta.identity.patientId).not.toBe(a.meta.identity.patientId)
    const r1 = generateSeries({ slices: 2 })
    const r2 = generateSeries({ slices: 2 })
    expect(r1.meta.sopInstanceUIDs[0]).not.toBe(r2.meta.sopInstanceUIDs[0])
    expect(r1.meta.seriesInstanceUID).toMatch(UID)
  })

  it('makes the paper\'s series: 3 slices of 0.5 MB', () => {
    const { files, meta } = generateSeries({ ...PAPER_SERIES, seed: 3 })
    expect(files).toHaveLength(3)
    expect(meta.bytesPerSlice).toBe(512 * 1024)
    for (const f of files) {
      const { ds } = readNatural(f.bytes)
      expect(((ds.PixelData as ArrayBuffer[])[0] as ArrayBuffer).byteLength).toBe(512 * 1024)
    }
  })

  it('writes the named planes with the usual direction cosines', () => {
    const cases: Array<[SeriesOptions['orientation'], number[]]> = [
      ['axial', [1, 0, 0, 0, 1, 0]],
      ['coronal', [1, 0, 0, 0, 0, -1]],
      ['sagittal', [0, 1, 0, 0, 0, -1]]
    ]
    for (const [orientation, iop] of cases) {
      const { files } = generateSeries({ orientation, slices: 1, rows: 4, columns: 4 })
      expect(readNatural(files[0]!.bytes).ds.ImageOrientationPatient).toEqual(iop)
    }
  })

  it('shuffles InstanceNumbers and lies in SpacingBetweenSlices on request, positions stay true', () => {
    const { files, meta } = generateSeries({ seed: 5, modality: 'MR', instanceOrder: 'shuffled', spacingBetweenSlices: 9, slices: 8 })
    expect([...meta.instanceNumbers].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(meta.instanceNumbers).not.toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    files.forEach((f, k) => {
      const { ds } = readNatural(f.bytes)
      expect(ds.InstanceNumber).toBe(meta.instanceNumbers[k])
      expect(ds.SpacingBetweenSlices).toBe(9)
      expect(ds.SOPClassUID).toBe(SOP_CLASS.MR)
      expect(ds.PixelRepresentation).toBe(0)
      expect(ds.RescaleSlope).toBeUndefined()
    })
    expect(meta.offsets[1]! - meta.offsets[0]!).toBeCloseTo(2.5, 9)
  })

  it('writes an Enhanced multi-frame object with per-frame positions out of spatial order', () => {
    const opts: SeriesOptions = { seed: 8, multiFrame: true, instanceOrder: 'descending', slices: 4, orientation: 'oblique' }
    const { files, meta } = generateSeries(opts)
    expect(files).toHaveLength(1)
    const { ds } = readNatural(files[0]!.bytes)
    expect(ds.SOPClassUID).toBe(SOP_CLASS.EnhancedCT)
    expect(ds.NumberOfFrames).toBe(4)
    const perFrame = ds.PerFrameFunctionalGroupsSequence as Array<Record<string, Array<Record<string, unknown>>>>
    const positions = perFrame.map(f => f.PlanePositionSequence?.[0]?.ImagePositionPatient)
    expect(positions).toEqual([...meta.positions].reverse())
    const shared = (ds.SharedFunctionalGroupsSequence as Array<Record<string, Array<Record<string, unknown>>>>)[0]!
    expect(shared.PlaneOrientationSequence?.[0]?.ImageOrientationPatient).toEqual([...meta.rowCosine, ...meta.columnCosine])
    const expected = expectedSlices(opts)
    const all = pixelsOf(ds, true)
    const frame = 40 * 48
    expect(Array.from(all.subarray(0, frame))).toEqual(Array.from(expected[3]!))
  })

  it('writes Implicit VR pixels as they are and Big Endian pixels byte-swapped', () => {
    const expected = expectedSlices({ slices: 2, modality: 'MR' })
    for (const transferSyntax of ['implicit-le', 'explicit-be'] as const) {
      const { files } = generateSeries({ slices: 2, modality: 'MR', transferSyntax })
      const { meta, ds } = readNatural(files[1]!.bytes)
      expect(meta.TransferSyntaxUID).toBe(TRANSFER_SYNTAX[transferSyntax])
      // dcmjs hands OW bytes over unswapped, so a big-endian file reads as swapped words here.
      const px = Array.from(pixelsOf(ds, false))
      const want = Array.from(expected[1]!)
      expect(px).toEqual(transferSyntax === 'explicit-be' ? want.map(v => ((v & 0xff) << 8) | (v >> 8)) : want)
    }
  })

  it('refuses bad options with a typed error', () => {
    expect(() => generateSeries({ rows: 0 })).toThrow(expect.objectContaining({ name: 'SyntheticOptionsError' }))
    expect(() => generateSeries({ orientation: { row: [1, 0, 0], column: [2, 0, 0] } })).toThrow(expect.objectContaining({ name: 'SyntheticOptionsError' }))
    expect(() => generateSeries({ sliceOffsets: [0, 2, 1] })).toThrow(expect.objectContaining({ name: 'SyntheticOptionsError' }))
    expect(() => generateSeries({ rows: 4096, columns: 4096, slices: 4096 })).toThrow(expect.objectContaining({ name: 'SyntheticOptionsError' }))
  })

  it('keeps any orientation orthonormal and stacks slices along its normal', () => {
    const unit = fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }))
      .filter(v => Math.hypot(...v) > 0.1)
    fc.assert(fc.property(unit, unit, fc.double({ min: 0.3, max: 6, noNaN: true }), (row, column, step) => {
      const cr: [number, number, number] = [row[1] * column[2] - row[2] * column[1], row[2] * column[0] - row[0] * column[2], row[0] * column[1] - row[1] * column[0]]
      fc.pre(Math.hypot(...cr) / Math.hypot(...row) / Math.hypot(...column) > 0.1)
      const { meta } = generateSeries({ orientation: { row, column }, sliceSpacing: step, slices: 3, rows: 2, columns: 3, noiseSigma: 0 })
      const r = meta.rowCosine
      const c = meta.columnCosine
      expect(Math.hypot(...r)).toBeCloseTo(1, 9)
      expect(Math.hypot(...c)).toBeCloseTo(1, 9)
      expect(r[0] * c[0] + r[1] * c[1] + r[2] * c[2]).toBeCloseTo(0, 9)
      const [p0, p2] = [meta.positions[0]!, meta.positions[2]!]
      const d: [number, number, number] = [p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]]
      expect(d[0] * meta.normal[0] + d[1] * meta.normal[1] + d[2] * meta.normal[2]).toBeCloseTo(2 * step, 8)
      expect(d[0] * r[0] + d[1] * r[1] + d[2] * r[2]).toBeCloseTo(0, 8)
    }), { numRuns: 25 })
  })
})
