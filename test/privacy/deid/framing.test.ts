import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createDeidentifier, DEID_INPUT_ERROR_NAMES } from '../../../src/privacy/deid/index.js'
import { SAMPLES, SECRET } from './helpers.js'
import { syntheticFile } from './synthetic.js'

const deid = createDeidentifier({ secret: SECRET, maxDepth: 8 })

/** The error name of a refused input, or 'ok'. Anything else (an untyped crash) fails the test. */
function outcome (bytes: Uint8Array): string {
  try {
    deid.deidentify(bytes)
    return 'ok'
  } catch (err) {
    const name = (err as Error).name
    if (!DEID_INPUT_ERROR_NAMES.includes(name)) throw err
    return name
  }
}

function problem (bytes: Uint8Array): string | undefined {
  try { deid.deidentify(bytes) } catch (err) { return `${(err as Error).name}:${(err as { problem?: string }).problem ?? ''}` }
  return undefined
}

const LONG = new Set(['OB', 'OW', 'SQ', 'UN', 'UT'])
const UNDEF = 0xffffffff

/** One Explicit VR Little Endian element (undefined length when `length` is given as UNDEF). */
function el (group: number, element: number, vr: string, value: Uint8Array, length = value.byteLength): Uint8Array {
  const long = LONG.has(vr)
  const out = new Uint8Array((long ? 12 : 8) + value.byteLength)
  const v = new DataView(out.buffer)
  v.setUint16(0, group, true)
  v.setUint16(2, element, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  if (long) v.setUint32(8, length, true)
  else v.setUint16(6, length, true)
  out.set(value, long ? 12 : 8)
  return out
}

function tag (group: number, element: number, length: number): Uint8Array {
  const out = new Uint8Array(8)
  const v = new DataView(out.buffer)
  v.setUint16(0, group, true)
  v.setUint16(2, element, true)
  v.setUint32(4, length, true)
  return out
}

const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts))
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s.length % 2 === 1 ? s + '\0' : s)

/** Preamble, DICM and a minimal File Meta Information in front of a data set. */
function part10 (dataset: Uint8Array, ts = '1.2.840.10008.1.2.1', withGroupLength = true): Uint8Array {
  const body = cat(el(2, 1, 'OB', new Uint8Array([0, 1])), el(2, 0x10, 'UI', ascii(ts)))
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, body.byteLength, true)
  const meta = withGroupLength ? cat(el(2, 0, 'UL', len), body) : body
  return cat(new Uint8Array(128), ascii('DICM'), meta, dataset)
}

const minimal = cat(
  el(0x0008, 0x0016, 'UI', ascii('1.2.840.10008.5.1.4.1.1.2')),
  el(0x0008, 0x0018, 'UI', ascii('1.2.3.4')),
  el(0x0010, 0x0010, 'PN', ascii('Doe^John'))
)

describe('framing of the input', () => {
  it('accepts a minimal well-formed object (the builder below is right)', () => {
    expect(outcome(part10(minimal))).toBe('ok')
  })

  it('refuses what is not a PS3.10 file, or whose File Meta is broken', () => {
    expect(problem(new TextEncoder().encode('hello, not dicom'))).toBe('DeidFormatError:not-dicom')
    expect(problem(new Uint8Array(4096))).toBe('DeidFormatError:not-dicom')
    expect(problem(part10(minimal, '1.2.840.10008.1.2.1', false))).toBe('DeidFormatError:malformed')
    expect(problem(part10(minimal, '1.2.3.4.5.6'))).toBe('DeidFormatError:unsupported')
    expect(problem(part10(new Uint8Array(0)))).toBe('DeidFormatError:malformed')
  })

  it('refuses truncated values, bad VRs, stray delimiters and undefined lengths where none may be', () => {
    expect(problem(part10(cat(minimal, el(0x0010, 0x0020, 'LO', ascii('12'), 40))))).toBe('DeidFormatError:truncated')
    expect(problem(part10(cat(minimal, el(0x0010, 0x0020, 'lo', ascii('12')))))).toBe('DeidFormatError:malformed')
    expect(problem(part10(cat(minimal, tag(0xfffe, 0xe00d, 0))))).toBe('DeidFormatError:malformed')
    expect(problem(part10(cat(minimal, el(0x0010, 0x4000, 'UT', ascii('x'), UNDEF))))).toBe('DeidFormatError:malformed')
    // A sequence whose item is never closed.
    expect(problem(part10(cat(minimal, el(0x0008, 0x1140, 'SQ', tag(0xfffe, 0xe000, UNDEF), UNDEF))))).toBe('DeidFormatError:truncated')
    // An item claiming more bytes than its sequence holds.
    const item = cat(tag(0xfffe, 0xe000, 100), el(0x0008, 0x1155, 'UI', ascii('1.2')))
    expect(problem(part10(cat(minimal, el(0x0008, 0x1140, 'SQ', item))))).toBe('DeidFormatError:truncated')
  })

  it('refuses sequences nested deeper than the limit', () => {
    let inner = el(0x0008, 0x1155, 'UI', ascii('1.2.3'))
    for (let i = 0; i < 10; i++) inner = el(0x0008, 0x1140, 'SQ', cat(tag(0xfffe, 0xe000, inner.byteLength), inner))
    expect(problem(part10(cat(minimal, inner)))).toBe('DeidFormatError:unsupported')
  })

  it('refuses Pixel Data shorter than its length (the truncated sample)', () => {
    const mr = readFileSync(join(SAMPLES, 'transfer-syntaxes/pydicom_MR_small.dcm'))
    expect(outcome(mr)).toBe('ok')
    expect(problem(mr.subarray(0, mr.byteLength - 1))).toBe('DeidFormatError:truncated')
    expect(problem(readFileSync(join(SAMPLES, 'malformed/pydicom_MR_truncated.dcm')))).toBe('DeidFormatError:truncated')
  })
})

describe('property: bad bytes never crash and never pass unnoticed', () => {
  const files = [
    syntheticFile(),
    syntheticFile({ transferSyntaxUid: '1.2.840.10008.1.2' }),
    Uint8Array.from(readFileSync(join(SAMPLES, 'small-study/98892003/MR1/4919'))),
    Uint8Array.from(readFileSync(join(SAMPLES, 'non-image/pydicom_rtplan.dcm')))
  ]

  it('a file cut anywhere is de-identified (cut on an element boundary) or refused with a typed error', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: files.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (f, at) => {
      const file = files[f] ?? new Uint8Array(0)
      const cut = Math.floor(at * (file.byteLength - 1))
      const r = outcome(file.subarray(0, cut))
      expect(DEID_INPUT_ERROR_NAMES.concat('ok')).toContain(r)
    }), { numRuns: 150 })
  })

  it('a file with random bytes overwritten is de-identified or refused with a typed error', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: files.length - 1 }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (f, edits) => {
        const file = Uint8Array.from(files[f] ?? [])
        for (const [at, byte] of edits) file[132 + Math.floor(at * (file.byteLength - 133))] = byte
        const r = outcome(file)
        expect(DEID_INPUT_ERROR_NAMES.concat('ok')).toContain(r)
      }), { numRuns: 200 })
  })
})
