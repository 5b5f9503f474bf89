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
/** Text VRs whose values are the default repertoire whatever the character set. */
const DEFAULT_REPERTOIRE = new Set(['UI', 'CS', 'DA', 'TM', 'DT', 'AS'])
/** Multi-valued text VRs whose leading spaces are significant (trailing ones only are padding). */
const KEEP_LEADING = new Set(['PN', 'LO', 'SH', 'UC'])
const utf8 = new TextDecoder('utf-8')
const latin1 = new TextDecoder('latin1')

export function decoderFor (specificCharacterSet: AttrValue | undefined): TextDecoder {
  const sets = Array.isArray(specificCharacterSet) ? specificCharacterSet : [specificCharacterSet]
  return sets.some(s => s === 'ISO_IR 192') ? utf8 : latin1
}

/** Bytes and reader of each binary VR. */
const BINARY: Record<string, [number, (dv: DataView, o: number, le: boolean) => number]> = {
  US: [2, (dv, o, le) => dv.getUint16(o, le)],
  SS: [2, (dv, o, le) => dv.getInt16(o, le)],
  UL: [4, (dv, o, le) => dv.getUint32(o, le)],
  SL: [4, (dv, o, le) => dv.getInt32(o, le)],
  FL: [4, (dv, o, le) => dv.getFloat32(o, le)],
  FD: [8, (dv, o, le) => dv.getFloat64(o, le)],
  AT: [4, (dv, o, le) => ((dv.getUint16(o, le) << 16) | dv.getUint16(o + 2, le)) >>> 0]
}

function binary (el: TopElement, value: Uint8Array, littleEndian: boolean): number[] | undefined {
  const spec = BINARY[el.vr]
  if (spec === undefined) return undefined
  const [size, read] = spec
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const out: number[] = []
  for (let o = 0; o + size <= value.length; o += size) out.push(read(dv, o, littleEndian))
  return out
}

/**
 * The text of a value without its trailing NULs and spaces (padding, PS3.5
 * §6.2). Trimmed as bytes: no decoder maps anything else to them, nor ends a
 * multi-byte character with them. Plain ASCII (nearly every value) is read
 * directly: every decoder reads it alike.
 */
function text (value: Uint8Array, decoder: TextDecoder): string {
  let end = value.length
  while (end > 0 && (value[end - 1] === 0x20 || value[end - 1] === 0)) end--
  for (let i = 0; i < end; i++) {
    if ((value[i] as number) >= 0x80) return decoder.decode(value.subarray(0, end))
  }
  return Buffer.from(value.buffer, value.byteOffset, end).toString('latin1')
}

/** Decodes one kept element; undefined for VRs we do not decode (OB, OW, UN, SQ, ...). */
export function decodeValue (el: TopElement, littleEndian: boolean, textDecoder: TextDecoder): AttrValue | undefined {
  const value = el.value
  if (value === undefined) return undefined
  const vr = el.vr
  if (TEXT_SINGLE.has(vr)) return text(value, textDecoder)
  if (TEXT_MULTI.has(vr)) {
    const raw = text(value, DEFAULT_REPERTOIRE.has(vr) ? latin1 : textDecoder)
    const keepLeading = KEEP_LEADING.has(vr)
    const parts: Array<string | number> = raw.includes('\\')
      ? raw.split('\\').map(s => keepLeading ? s.trimEnd() : s.trim())
      : [keepLeading ? raw.trimEnd() : raw.trim()]
    // Numbers as numbers (what dcmjs gives for C-FIND answers too); a malformed
    // one stays a string for `integerString`/`decimalString` to reject.
    if (vr === 'IS' || vr === 'DS') {
      const re = vr === 'IS' ? IS_RE : DS_RE
      for (let i = 0; i < parts.length; i++) if (re.test(String(parts[i]))) parts[i] = Number(parts[i])
    }
    return parts.length === 1 ? (parts[0] ?? '') : parts
  }
  const numbers = binary(el, value, littleEndian)
  if (numbers === undefined) return undefined
  if (numbers.length === 0) return []
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
