/**
 * Decoding of element values into plain JSON values (PS3.5 §6.2): strings
 * for text VRs (split on `\` where the VR allows several values), numbers for
 * binary VRs. Character sets (PS3.5 §6.1.2.5): ISO_IR 192 is UTF-8, ISO_IR 100
 * and the default repertoire are read as Latin-1; other repertoires (ISO 2022
 * escapes) are read as Latin-1 too — a best effort for local display only.
 */
import { TextDecoder } from 'node:util'
import { InvalidDicomError } from '../errors.js'
import { keywordOf, tagKey } from './dictionary.js'
import type { TopElement } from './walker.js'

/** A decoded attribute: one value, or several (VM > 1). */
export type AttrValue = string | number | Array<string | number>
/** Decoded attributes by dictionary keyword. */
export type Attributes = Record<string, AttrValue>

const TEXT_SINGLE = new Set(['LT', 'ST', 'UT', 'UR'])
const TEXT_MULTI = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'PN', 'SH', 'TM', 'UC', 'UI'])
const utf8 = new TextDecoder('utf-8')
const latin1 = new TextDecoder('latin1')

export function decoderFor (specificCharacterSet: AttrValue | undefined): TextDecoder {
  const sets = Array.isArray(specificCharacterSet) ? specificCharacterSet : [specificCharacterSet]
  return sets.some(s => s === 'ISO_IR 192') ? utf8 : latin1
}

function binary (el: TopElement, value: Uint8Array, littleEndian: boolean): number[] {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const out: number[] = []
  const read: Record<string, [number, (o: number) => number]> = {
    US: [2, o => dv.getUint16(o, littleEndian)],
    SS: [2, o => dv.getInt16(o, littleEndian)],
    UL: [4, o => dv.getUint32(o, littleEndian)],
    SL: [4, o => dv.getInt32(o, littleEndian)],
    FL: [4, o => dv.getFloat32(o, littleEndian)],
    FD: [8, o => dv.getFloat64(o, littleEndian)],
    AT: [4, o => ((dv.getUint16(o, littleEndian) << 16) | dv.getUint16(o + 2, littleEndian)) >>> 0]
  }
  const spec = read[el.vr]
  if (spec === undefined) return out
  for (let o = 0; o + spec[0] <= value.length; o += spec[0]) out.push(spec[1](o))
  return out
}

/** Decodes one kept element; undefined for VRs we do not decode (OB, OW, UN, SQ, ...). */
export function decodeValue (el: TopElement, littleEndian: boolean, text: TextDecoder): AttrValue | undefined {
  const value = el.value
  if (value === undefined) return undefined
  if (TEXT_SINGLE.has(el.vr) || TEXT_MULTI.has(el.vr)) {
    const decoder = el.vr === 'UI' || el.vr === 'CS' || el.vr === 'DA' || el.vr === 'TM' || el.vr === 'DT' || el.vr === 'AS' ? latin1 : text
    const raw = decoder.decode(value).replace(/[\0 ]+$/, '')
    if (TEXT_SINGLE.has(el.vr)) return raw
    const parts: Array<string | number> = raw.split('\\').map(s => el.vr === 'PN' || el.vr === 'LO' || el.vr === 'SH' || el.vr === 'UC' ? s.trimEnd() : s.trim())
    // Numbers as numbers (what dcmjs gives for C-FIND answers too); a malformed
    // one stays a string for `integerString`/`decimalString` to reject.
    if (el.vr === 'IS' || el.vr === 'DS') {
      const re = el.vr === 'IS' ? IS_RE : DS_RE
      for (let i = 0; i < parts.length; i++) if (re.test(String(parts[i]))) parts[i] = Number(parts[i])
    }
    return parts.length === 1 ? (parts[0] ?? '') : parts
  }
  const numbers = binary(el, value, littleEndian)
  if (numbers.length === 0) return el.vr in { US: 1, SS: 1, UL: 1, SL: 1, FL: 1, FD: 1, AT: 1 } ? [] : undefined
  return numbers.length === 1 ? numbers[0] : numbers
}

/** Decodes the kept top-level elements named in `wanted` (all named ones when undefined). */
export function decodeAttributes (elements: Map<number, TopElement>, littleEndian: boolean, wanted?: ReadonlySet<string>): Attributes {
  const charset = elements.get(0x00080005)
  const text = decoderFor(charset === undefined ? undefined : decodeValue(charset, littleEndian, latin1))
  const out: Attributes = {}
  for (const el of elements.values()) {
    const keyword = keywordOf(el.tag)
    if (keyword === undefined || (wanted !== undefined && !wanted.has(keyword))) continue
    const v = decodeValue(el, littleEndian, text)
    if (v !== undefined) out[keyword] = v
  }
  return out
}

const IS_RE = /^[+-]?\d{1,12}$/
const DS_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** Parses an IS attribute (PS3.5 Table 6.2-1); a malformed value is an `InvalidDicomError`. */
export function integerString (attrs: Attributes, keyword: string, tag: number): number[] | undefined {
  const v = attrs[keyword]
  if (v === undefined || v === '') return undefined
  const parts = Array.isArray(v) ? v : [v]
  return parts.map(p => {
    const s = String(p).trim()
    if (!IS_RE.test(s)) throw new InvalidDicomError(`${keyword} ${tagKey(tag)}: invalid IS value ${JSON.stringify(s.slice(0, 16))}`)
    return Number(s)
  })
}

/** Parses a DS attribute; a malformed value is an `InvalidDicomError`. */
export function decimalString (attrs: Attributes, keyword: string, tag: number): number[] | undefined {
  const v = attrs[keyword]
  if (v === undefined || v === '') return undefined
  const parts = Array.isArray(v) ? v : [v]
  return parts.map(p => {
    const s = String(p).trim()
    if (!DS_RE.test(s)) throw new InvalidDicomError(`${keyword} ${tagKey(tag)}: invalid DS value ${JSON.stringify(s.slice(0, 16))}`)
    return Number(s)
  })
}
