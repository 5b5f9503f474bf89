import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blankRectangles, createDeidentifier, deidentify } from '../../../src/privacy/deid/index.js'
import type { DeidResult } from '../../../src/privacy/deid/index.js'
import { tempDir } from '../../helpers/tmp.js'
import { dcmdump, SAMPLES, sampleFiles, SECRET, topValue } from './helpers.js'
import { ORIGINAL, readAll, syntheticFile } from './synthetic.js'

let dir: { path: string, remove: () => Promise<void> }
beforeAll(async () => { dir = await tempDir('dm2-deid-') })
afterAll(async () => { await dir?.remove() })

function dump (result: DeidResult, name: string): ReturnType<typeof dcmdump> {
  const file = join(dir.path, name)
  writeFileSync(file, result.bytes)
  const d = dcmdump(file)
  expect(d.status).toBe(0)
  return d
}

const tags = (d: ReturnType<typeof dcmdump>): string[] => d.elements.map(e => e.tag)
const values = (d: ReturnType<typeof dcmdump>): string => d.elements.map(e => e.value).join('\n')

describe('the basic profile on a hand-built object', () => {
  const result = deidentify(syntheticFile(), { secret: SECRET })

  it('removes, empties, dummies and replaces as Table E.1-1 says, inside sequences too', () => {
    const d = dump(result, 'basic.dcm')
    const all = values(d)
    for (const original of [ORIGINAL.patientName, ORIGINAL.patientId, ORIGINAL.text, ORIGINAL.sopInstanceUid, ORIGINAL.studyUid,
      ORIGINAL.seriesUid, ORIGINAL.referencedUid, 'General Hospital', 'CT-ROOM-2', 'SN-0042', 'Smith^Jane', '20200115', '101010', 'HOSPITAL_CT']) {
      expect(all).not.toContain(original)
    }
    // X: Request Attributes Sequence, curve data, overlay group (with its rows/columns), padding after Pixel Data.
    for (const tag of ['00400275', '50003000', '60000010', '60000011', '60003000', '60004000', 'FFFCFFFC', '00020016']) expect(tags(d)).not.toContain(tag)
    // Private elements at top level and inside the Referenced Image Sequence item.
    expect(tags(d).filter(t => t.startsWith('0009') || t.startsWith('0011'))).toEqual([])
    // Z: Patient's Name and Birth Date are present but empty; Study Date/Time emptied.
    expect(topValue(d, '00100010')).toBe('(no value available)')
    expect(topValue(d, '00080020')).toBe('(no value available)')
    // Z/D and X/Z/D are resolved to D, the conformant choice for any IOD Type.
    expect(topValue(d, '00100020')).toBe('ANONYMIZED')
    expect(topValue(d, '00080080')).toBe('ANONYMIZED')
    // X/Z/U*: Referenced Image Sequence kept, its SOP Instance UID replaced.
    expect(d.elements.find(e => e.tag === '00081155')?.value).toMatch(/^\[2\.25\.\d+\]$/)
    // D on a sequence: every text inside is a dummy, the structure stays.
    expect(d.elements.filter(e => e.tag === '00080104' && e.value === '[Finding]')).toEqual([])
    expect(d.elements.find(e => e.tag === '0040A160')?.value).toBe('[ANONYMIZED]')
    expect(topValue(d, '00280303')).toBe('REMOVED')
  })

  it('copies Pixel Data byte for byte', () => {
    const before = readAll(syntheticFile()).dict['7FE00010']?.Value?.[0] as ArrayBuffer
    const after = readAll(result.bytes).dict['7FE00010']?.Value?.[0] as ArrayBuffer
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true)
  })

  it('reports each action by tag path', () => {
    const by = (path: string): string | undefined => result.report.entries.find(e => e.path === path)?.action
    expect(by('(0010,0010)')).toBe('Z')
    expect(by('(0010,0020)')).toBe('D')
    expect(by('(0040,0275)')).toBe('X')
    expect(by('(0008,1140)[0].(0008,1155)')).toBe('U')
    expect(by('(0008,1140)[0].(0011,1001)')).toBe('X')
    expect(by('(0002,0003)')).toBe('U')
    expect(by('(0012,0062)')).toBe('A')
    expect(result.report.entries.find(e => e.path === '(0009,1001)')?.reason).toBe('private')
    expect(result.report.counts.X).toBe(result.report.entries.filter(e => e.action === 'X').length)
    expect(JSON.stringify(result.report)).not.toMatch(/Doe|PID-4711|General Hospital|fracture/)
  })
})

describe('options', () => {
  it('Modified Dates: shifts every date of a patient by the same days, keeps times, records it', () => {
    const deid = createDeidentifier({ secret: SECRET, dates: 'modified' })
    const a = dump(deid.deidentify(syntheticFile({ studyDate: '20200115' })), 'mod-a.dcm')
    const b = dump(deid.deidentify(syntheticFile({ studyDate: '20200215' })), 'mod-b.dcm')
    const other = dump(deid.deidentify(syntheticFile({ studyDate: '20200115', patientId: 'PID-9999' })), 'mod-c.dcm')
    const day = (s: string | undefined): number => Date.UTC(Number(s?.slice(0, 4)), Number(s?.slice(4, 6)) - 1, Number(s?.slice(6, 8))) / 86_400_000
    const shiftA = day(topValue(a, '00080020')) - day('20200115')
    expect(shiftA).toBeLessThanOrEqual(-30)
    expect(day(topValue(b, '00080020')) - day('20200215')).toBe(shiftA)
    expect(day(topValue(other, '00080020')) - day('20200115')).not.toBe(shiftA)
    expect(day(topValue(a, '0008002A')) - day('20200115')).toBe(shiftA)
    expect(topValue(a, '0008002A')?.slice(8)).toBe('101010.123+0100')
    expect(topValue(a, '00080030')).toBe('101010')
    expect(topValue(a, '00100030')).toBe('(no value available)') // birth date has no temporal option
    expect(topValue(a, '00280303')).toBe('MODIFIED')
    expect(a.elements.some(e => e.tag === '00080100' && e.value === '[113107]')).toBe(true)
  })

  it('Full Dates and Retain Device Identity keep what the option columns say, and nothing else', () => {
    const r = deidentify(syntheticFile(), { secret: SECRET, dates: 'full', retainDeviceIdentity: true })
    const d = dump(r, 'full.dcm')
    expect(topValue(d, '00080020')).toBe('20200115')
    expect(topValue(d, '00081010')).toBe('CT-ROOM-2')
    expect(topValue(d, '00181000')).toBe('SN-0042')
    expect(topValue(d, '00100020')).toBe('ANONYMIZED')
    expect(topValue(d, '00280303')).toBe('UNMODIFIED')
    expect(d.elements.filter(e => e.tag === '00080100').map(e => e.value)).toEqual(['[113100]', '[113106]', '[113109]'])
    expect(r.report.entries.find(e => e.path === '(0018,1000)')).toEqual({ path: '(0018,1000)', action: 'K', reason: 'option' })
  })
})

describe('burned-in text', () => {
  const dfl = readFileSync(join(SAMPLES, 'transfer-syntaxes/pydicom_image_dfl.dcm'))

  it('refuses an object whose Burned In Annotation is YES', () => {
    expect(() => deidentify(syntheticFile({ burnedInAnnotation: 'YES' }), { secret: SECRET })).toThrow(expect.objectContaining({ name: 'DeidBurnedInTextError' }))
    expect(deidentify(syntheticFile({ burnedInAnnotation: 'NO' }), { secret: SECRET }).bytes.byteLength).toBeGreaterThan(0)
  })

  it('accepts a secondary capture when a rule blanks its text, and blanks exactly the rectangles', () => {
    expect(() => deidentify(dfl, { secret: SECRET })).toThrow(expect.objectContaining({ name: 'DeidBurnedInTextError' }))
    const rule = blankRectangles({ name: 'banner', match: img => img.rows === 512 && img.columns === 512, rectangles: [{ x: 10, y: 0, width: 100, height: 20 }] })
    const r = deidentify(dfl, { secret: SECRET, pixelCleaningRules: [rule] })
    expect(r.report.pixelCleaningRule).toBe('banner')
    const d = dump(r, 'dfl.dcm')
    expect(topValue(d, '00020010')).toBe('1.2.840.10008.1.2.1') // inflated on the way
    expect(topValue(d, '00280301')).toBe('NO')
    expect(d.elements.some(e => e.tag === '00080100' && e.value === '[113101]')).toBe(true)
    const before = new Uint8Array(readAll(dfl).dict['7FE00010']?.Value?.[0] as ArrayBuffer)
    const after = new Uint8Array(readAll(r.bytes).dict['7FE00010']?.Value?.[0] as ArrayBuffer)
    expect(after.byteLength).toBe(before.byteLength)
    const bpp = 512 * 512 === before.byteLength ? 1 : 2
    let changed = 0
    for (let i = 0; i < before.byteLength; i++) {
      const px = Math.floor(i / bpp)
      const inside = px % 512 >= 10 && px % 512 < 110 && Math.floor(px / 512) < 20
      if (inside) expect(after[i]).toBe(0)
      else if (after[i] !== before[i]) changed++
    }
    expect(changed).toBe(0)
    // The input buffer is left as it was.
    expect(Buffer.compare(dfl, readFileSync(join(SAMPLES, 'transfer-syntaxes/pydicom_image_dfl.dcm')))).toBe(0)
  })

  it('keeps refusing compressed pixel data: no rule can clean it without decoding', () => {
    const all = blankRectangles({ match: () => true, rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] })
    const jpeg = readFileSync(join(SAMPLES, 'transfer-syntaxes/pydicom_SC_rgb_jpeg_gdcm.dcm'))
    expect(() => deidentify(jpeg, { secret: SECRET, pixelCleaningRules: [all] })).toThrow(expect.objectContaining({ name: 'DeidBurnedInTextError' }))
  })
})

describe('inputs', () => {
  it('reads a Buffer that is a view into a larger pool like a standalone copy', () => {
    const file = readFileSync(join(SAMPLES, 'small-study/98892003/MR1/4919'))
    const pool = Buffer.alloc(file.byteLength + 5000, 0x55)
    file.copy(pool, 1234)
    const view = pool.subarray(1234, 1234 + file.byteLength)
    const deid = createDeidentifier({ secret: SECRET })
    expect(Buffer.from(deid.deidentify(view).bytes).equals(Buffer.from(deid.deidentify(new Uint8Array(file).buffer).bytes))).toBe(true)
  })

  it('refuses a short secret, an oversized input and a deflate bomb with typed errors', () => {
    expect(() => createDeidentifier({ secret: new Uint8Array(16) })).toThrow(expect.objectContaining({ name: 'DeidSecretError' }))
    const file = syntheticFile()
    expect(() => deidentify(file, { secret: SECRET, maxInputBytes: 100 })).toThrow(expect.objectContaining({ name: 'DeidInputTooLargeError' }))
    const dfl = readFileSync(join(SAMPLES, 'transfer-syntaxes/pydicom_image_dfl.dcm'))
    expect(() => deidentify(dfl, { secret: SECRET, maxInputBytes: 64 * 1024 })).toThrow(expect.objectContaining({ name: 'DeidInputTooLargeError' }))
  })

  it('gives every sample the same outcome whether given as Buffer or ArrayBuffer', () => {
    const deid = createDeidentifier({ secret: SECRET })
    const outcome = (input: Uint8Array | ArrayBuffer): string => {
      try { return Buffer.from(deid.deidentify(input).bytes).toString('base64').slice(0, 4000) } catch (err) { return (err as Error).name }
    }
    for (const rel of sampleFiles().filter(r => r.startsWith('malformed/') || r.startsWith('non-image/'))) {
      const file = readFileSync(join(SAMPLES, rel))
      expect(outcome(file), rel).toBe(outcome(new Uint8Array(file).buffer))
    }
  })
})
