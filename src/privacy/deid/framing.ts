/**
 * Structural check of a DICOM PS3.10 file before anything reads its values: preamble and "DICM",
 * File Meta Information (PS3.10 §7.1), then every data element of the data set (PS3.5 §7) with
 * its length checked against the bytes actually there, sequences and items (PS3.5 §7.5),
 * encapsulated pixel data (PS3.5 A.4), undefined-length UN read as Implicit VR (PS3.5 §6.2.2
 * note / CP-246). Truncated, overrunning or malformed input is refused here with a typed error,
 * so the value parser (dcmjs) only ever sees well-framed bytes. A Deflated data set (PS3.5 A.5)
 * is inflated here under the size limit. Also locates the top-level Pixel Data element, which is
 * copied into the output byte for byte rather than re-encoded.
 */
import { inflateRawSync } from 'node:zlib'
import { TS_DEFLATED_LE, TS_EXPLICIT_BE, TS_IMPLICIT_LE } from './constants.js'
import { DeidFormatError, DeidInputTooLargeError } from './errors.js'

export interface Limits { maxBytes: number, maxDepth: number }

export interface Framing {
  transferSyntaxUid: string
  /** The data set (inflated when deflated), from its first element to the end of the file. */
  dataset: Uint8Array
  littleEndian: boolean
  explicitVr: boolean
  /** Byte range in `dataset` of the top-level (7FE0,0010) element, header included. */
  pixelData?: { start: number, end: number, valueStart: number, undefinedLength: boolean }
  /** Top-level tags after Pixel Data (PS3.10 padding, signatures, private groups). */
  afterPixelData: string[]
  /** Top-level Float / Double Float / Pixel Data present. */
  hasPixels: boolean
  /** Every tag at any depth, when `collectTags` was asked for. */
  tags?: Set<string>
  /** Top-level elements before Pixel Data, in file order. */
  elements: TopElement[]
  /** File Meta Information: its tags, and the text of its string-valued elements. */
  meta: { tags: string[], text: Map<string, string> }
}

export interface TopElement {
  tag: string
  /** Byte range in `Framing.dataset`, header included. */
  start: number
  end: number
  /** Elements in it at any depth, itself included. */
  count: number
  /** It holds a sequence a dictionary-driven reader may read differently (see `Walker.opaque`). */
  opaque: boolean
}

type OnTop = (tag: string, start: number, valueStart: number, next: number, undef: boolean, count: number, opaque: boolean) => void

const UNDEFINED = 0xffffffff
const VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV'])
/** PS3.5 Table 7.1-1: VRs with a reserved field and a 32-bit length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
const PIXEL_TAGS = new Set(['7FE00008', '7FE00009', '7FE00010'])

interface Syntax { little: boolean, explicit: boolean }

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0')

class Walker {
  private readonly view: DataView
  /** Elements seen so far, at any depth. */
  count = 0
  /** A sequence was found that a dictionary-driven reader may read differently (UN, or unknown tag in Implicit VR). */
  opaque = false
  constructor (
    readonly bytes: Uint8Array,
    private readonly maxDepth: number,
    private readonly isSequence: (tag: string) => boolean,
    readonly tags?: Set<string>
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private need (p: number, n: number, end: number): void {
    if (p + n > this.bytes.byteLength) throw new DeidFormatError('truncated', `data ends inside an element at byte ${p}`)
    if (p + n > end) throw new DeidFormatError('malformed', `element overruns its enclosing item at byte ${p}`)
  }

  private u16 (p: number, little: boolean): number { return this.view.getUint16(p, little) }
  private u32 (p: number, little: boolean): number { return this.view.getUint32(p, little) }

  /** Walk data elements from `p` to `end`; with `untilItemEnd`, stop after (FFFE,E00D). Returns the end offset. */
  elements (p: number, end: number, syn: Syntax, depth: number, untilItemEnd: boolean, onTop?: OnTop): number {
    while (p < end) {
      const count0 = this.count
      const opaque0 = this.opaque
      this.opaque = false
      this.need(p, 8, end)
      const group = this.u16(p, syn.little)
      const element = this.u16(p + 2, syn.little)
      const tag = hex4(group) + hex4(element)
      if (group === 0xfffe) {
        if (untilItemEnd && element === 0xe00d) return p + 8
        throw new DeidFormatError('malformed', `unexpected item or delimiter (${tag}) at byte ${p}`)
      }
      let vr = ''
      let length: number
      let header: number
      if (syn.explicit) {
        vr = String.fromCharCode(this.bytes[p + 4] ?? 0, this.bytes[p + 5] ?? 0)
        if (!VRS.has(vr)) throw new DeidFormatError('malformed', `invalid VR in (${tag.slice(0, 4)},${tag.slice(4)})`)
        if (LONG_VRS.has(vr)) {
          this.need(p, 12, end)
          length = this.u32(p + 8, syn.little)
          header = 12
        } else {
          length = this.u16(p + 6, syn.little)
          header = 8
        }
      } else {
        length = this.u32(p + 4, syn.little)
        header = 8
      }
      this.tags?.add(tag)
      this.count++
      const valueStart = p + header
      let next: number
      if (length === UNDEFINED) {
        if (tag === '7FE00010' && syn.explicit && (vr === 'OB' || vr === 'OW')) next = this.fragments(valueStart, end, syn)
        else if (vr === 'SQ' || vr === 'UN' || !syn.explicit) {
          // CP-246: an undefined-length UN is a sequence in Implicit VR Little Endian.
          const inner = vr === 'UN' ? { little: true, explicit: false } : syn
          if (vr === 'UN' || (!syn.explicit && !this.isSequence(tag))) this.opaque = true
          next = this.sequence(valueStart, end, inner, depth + 1, true)
        } else throw new DeidFormatError('malformed', `undefined length on a ${vr} element`)
      } else {
        this.need(valueStart, length, end)
        next = valueStart + length
        if (vr === 'SQ' || (!syn.explicit && this.isSequence(tag))) this.sequence(valueStart, next, syn, depth + 1, false)
      }
      onTop?.(tag, p, valueStart, next, length === UNDEFINED, this.count - count0, this.opaque)
      this.opaque ||= opaque0
      p = next
    }
    if (untilItemEnd) throw new DeidFormatError('truncated', 'item without its delimiter')
    return p
  }

  /** Items of a sequence (PS3.5 §7.5): to `end` when defined, or to (FFFE,E0DD). */
  private sequence (p: number, end: number, syn: Syntax, depth: number, undef: boolean): number {
    if (depth > this.maxDepth) throw new DeidFormatError('unsupported', `sequences nested deeper than ${this.maxDepth}`)
    for (;;) {
      if (!undef && p >= end) return p
      this.need(p, 8, end)
      const group = this.u16(p, syn.little)
      const element = this.u16(p + 2, syn.little)
      const length = this.u32(p + 4, syn.little)
      if (group !== 0xfffe) throw new DeidFormatError('malformed', `expected an item at byte ${p}`)
      if (element === 0xe0dd && undef) return p + 8
      if (element !== 0xe000) throw new DeidFormatError('malformed', `unexpected delimiter at byte ${p}`)
      if (length === UNDEFINED) p = this.elements(p + 8, end, syn, depth, true)
      else {
        this.need(p + 8, length, end)
        p = this.elements(p + 8, p + 8 + length, syn, depth, false)
      }
    }
  }

  /** Encapsulated pixel data (PS3.5 A.4): defined-length items up to (FFFE,E0DD). */
  private fragments (p: number, end: number, syn: Syntax): number {
    for (;;) {
      this.need(p, 8, end)
      const group = this.u16(p, syn.little)
      const element = this.u16(p + 2, syn.little)
      const length = this.u32(p + 4, syn.little)
      if (group === 0xfffe && element === 0xe0dd) return p + 8
      if (group !== 0xfffe || element !== 0xe000 || length === UNDEFINED) {
        throw new DeidFormatError('malformed', `bad pixel data fragment at byte ${p}`)
      }
      this.need(p + 8, length, end)
      p += 8 + length
    }
  }
}

const STRING_META_VRS = new Set(['UI', 'AE', 'SH', 'LO', 'CS'])

function readMeta (w: Walker, bytes: Uint8Array): { tsUid: string, end: number, meta: Framing['meta'] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 144 || view.getUint32(128) !== 0x4449434d) {
    throw new DeidFormatError('not-dicom', 'no PS3.10 preamble and "DICM" prefix')
  }
  // PS3.10 §7.1: group 0002, Explicit VR Little Endian, led by its group length.
  if (view.getUint32(132, true) !== 0x00000002 || String.fromCharCode(bytes[136] ?? 0, bytes[137] ?? 0) !== 'UL') {
    throw new DeidFormatError('malformed', 'File Meta Information without its group length')
  }
  const end = 144 + view.getUint32(140, true)
  const meta: Framing['meta'] = { tags: ['00020000'], text: new Map() }
  w.elements(144, end, { little: true, explicit: true }, 0, false, (tag, start, valueStart, next) => {
    if (!tag.startsWith('0002')) throw new DeidFormatError('malformed', 'non-meta element in File Meta Information')
    meta.tags.push(tag)
    const vr = String.fromCharCode(bytes[start + 4] ?? 0, bytes[start + 5] ?? 0)
    if (STRING_META_VRS.has(vr)) meta.text.set(tag, new TextDecoder().decode(bytes.subarray(valueStart, next)).replace(/[\0 ]+$/, '').trim())
  })
  const tsUid = meta.text.get('00020010') ?? ''
  if (tsUid === '') throw new DeidFormatError('malformed', 'File Meta Information has no Transfer Syntax UID')
  return { tsUid, end, meta }
}

export function checkFraming (input: Uint8Array, limits: Limits, isSequence: (tag: string) => boolean, collectTags = false): Framing {
  if (input.byteLength > limits.maxBytes) throw new DeidInputTooLargeError(limits.maxBytes)
  const tags = collectTags ? new Set<string>() : undefined
  const { tsUid, end: metaEnd, meta } = readMeta(new Walker(input, limits.maxDepth, isSequence, tags), input)
  if (!tsUid.startsWith('1.2.840.10008.1.2')) throw new DeidFormatError('unsupported', 'transfer syntax not defined by PS3.5')

  let dataset = input.subarray(metaEnd)
  if (tsUid === TS_DEFLATED_LE) {
    try {
      dataset = inflateRawSync(dataset, { maxOutputLength: limits.maxBytes })
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new DeidInputTooLargeError(limits.maxBytes)
      throw new DeidFormatError('malformed', 'deflated data set does not inflate')
    }
  }
  const syn = { little: tsUid !== TS_EXPLICIT_BE, explicit: tsUid !== TS_IMPLICIT_LE }
  if (dataset.byteLength === 0) throw new DeidFormatError('malformed', 'empty data set')
  const out: Framing = {
    transferSyntaxUid: tsUid, dataset, littleEndian: syn.little, explicitVr: syn.explicit, afterPixelData: [], hasPixels: false, tags, elements: [], meta
  }
  const w = new Walker(dataset, limits.maxDepth, isSequence, tags)
  w.elements(0, dataset.byteLength, syn, 0, false, (tag, start, valueStart, next, undef, count, opaque) => {
    if (out.pixelData !== undefined) out.afterPixelData.push(tag)
    else if (tag === '7FE00010') out.pixelData = { start, end: next, valueStart, undefinedLength: undef }
    else out.elements.push({ tag, start, end: next, count, opaque })
    if (PIXEL_TAGS.has(tag)) out.hasPixels = true
  })
  return out
}
