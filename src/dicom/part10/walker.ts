/**
 * A bounded walk over a DICOM data set (PS3.5 §7): every element header is
 * read and checked, every value length must fit in its container, sequences
 * and items must be properly delimited, encapsulated pixel data must be a
 * well-formed fragment sequence (PS3.5 §A.4). Top-level values up to
 * `keepValueBytes` are returned; larger values (pixel data) are skipped.
 *
 * Pure: the bytes come from a `ByteSource`, nothing else is touched.
 */
import { InvalidDicomError } from '../errors.js'
import { dictionaryVr, tagKey } from './dictionary.js'
import type { ByteSource } from './source.js'

export interface Syntax {
  littleEndian: boolean
  explicitVr: boolean
}

export const IMPLICIT_LITTLE: Syntax = { littleEndian: true, explicitVr: false }
export const EXPLICIT_LITTLE: Syntax = { littleEndian: true, explicitVr: true }

export const UNDEFINED_LENGTH = 0xffffffff
export const TAG_ITEM = 0xfffee000
export const TAG_ITEM_DELIMITER = 0xfffee00d
export const TAG_SEQUENCE_DELIMITER = 0xfffee0dd
export const TAG_PIXEL_DATA = 0x7fe00010

/** VRs of PS3.5 Table 6.2-1. */
const VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV'])
/** VRs with a 2-byte reserved field and a 32-bit length in explicit VR (PS3.5 Table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
/** Binary VRs whose length must be a multiple of the value size. */
const FIXED_SIZE: Readonly<Record<string, number>> = { AT: 4, FL: 4, FD: 8, SL: 4, SS: 2, UL: 4, US: 2, SV: 8, UV: 8, OD: 8, OF: 4, OL: 4, OV: 8, OW: 2 }

export interface TopElement {
  tag: number
  vr: string
  length: number
  /** The value, when short enough to keep; a copy, safe to hold. */
  value?: Uint8Array
}

export interface PixelDataInfo {
  vr: string
  /** Offset of the value (native) or of the first item (encapsulated). */
  offset: number
  /** Value length, or the total bytes of all fragments when encapsulated. */
  length: number
  /** Offset just past the value (past the sequence delimiter when encapsulated). */
  end: number
  encapsulated: boolean
  /** Fragments after the basic offset table, first `MAX_KEPT_FRAGMENTS` only. */
  fragments: Array<{ offset: number, length: number }>
  fragmentCount: number
}

export interface WalkLimits {
  keepValueBytes: number
  maxDepth: number
  maxElements: number
}

export interface DatasetScan {
  elements: Map<number, TopElement>
  /** Tags of the top-level sequences (SQ, or UN of undefined length); their items are walked, not kept. */
  sequences: Set<number>
  pixelData?: PixelDataInfo
  end: number
}

const MAX_KEPT_FRAGMENTS = 16

interface Header { tag: number, vr: string, length: number, valueOffset: number }

class Walk {
  elements = new Map<number, TopElement>()
  sequences = new Set<number>()
  pixelData?: PixelDataInfo
  count = 0

  constructor (private readonly src: ByteSource, private readonly limits: WalkLimits) {}

  header (pos: number, end: number, syn: Syntax): Header {
    if (pos + 8 > end) throw new InvalidDicomError(`truncated element header at byte ${pos}`)
    const b = this.src.bytes(pos, 8)
    const dv = new DataView(b.buffer, b.byteOffset, 8)
    const le = syn.littleEndian
    const tag = ((dv.getUint16(0, le) << 16) | dv.getUint16(2, le)) >>> 0
    if ((tag >>> 16) === 0xfffe || !syn.explicitVr) {
      const vr = (tag >>> 16) === 0xfffe ? '' : dictionaryVr(tag)
      return { tag, vr, length: dv.getUint32(4, le), valueOffset: pos + 8 }
    }
    const vr = String.fromCharCode(b[4] ?? 0, b[5] ?? 0)
    if (!VRS.has(vr)) throw new InvalidDicomError(`invalid VR ${JSON.stringify(vr)} in element ${tagKey(tag)}`)
    if (!LONG_VRS.has(vr)) return { tag, vr, length: dv.getUint16(6, le), valueOffset: pos + 8 }
    if (pos + 12 > end) throw new InvalidDicomError(`truncated element header at byte ${pos}`)
    const l = this.src.bytes(pos + 8, 4)
    return { tag, vr, length: new DataView(l.buffer, l.byteOffset, 4).getUint32(0, le), valueOffset: pos + 12 }
  }

  /** Elements from `pos` to `end`, or to an item delimiter when `delimited`; returns the position after. */
  dataset (pos: number, end: number, syn: Syntax, depth: number, delimited: boolean): number {
    if (depth > this.limits.maxDepth) throw new InvalidDicomError(`sequences nested deeper than ${this.limits.maxDepth}`)
    let last = -1
    while (pos < end) {
      const h = this.header(pos, end, syn)
      if (h.tag === TAG_ITEM_DELIMITER) {
        if (!delimited || h.length !== 0) throw new InvalidDicomError(`unexpected item delimiter at byte ${pos}`)
        return h.valueOffset
      }
      if ((h.tag >>> 16) === 0xfffe) throw new InvalidDicomError(`unexpected ${tagKey(h.tag)} in a data set at byte ${pos}`)
      if (++this.count > this.limits.maxElements) throw new InvalidDicomError(`more than ${this.limits.maxElements} elements`)
      if (h.tag <= last && depth === 0) throw new InvalidDicomError(`element ${tagKey(h.tag)} out of order`)
      last = h.tag
      pos = this.element(h, end, syn, depth)
    }
    if (delimited) throw new InvalidDicomError('truncated: item without delimiter')
    return pos
  }

  element (h: Header, end: number, syn: Syntax, depth: number): number {
    const top = depth === 0
    if (top && (h.vr === 'SQ' || (h.vr === 'UN' && h.length === UNDEFINED_LENGTH))) this.sequences.add(h.tag)
    if (h.length === UNDEFINED_LENGTH) {
      if (h.tag === TAG_PIXEL_DATA && top) return this.encapsulated(h, end, syn)
      // An undefined-length UN is a sequence encoded in implicit VR little endian (PS3.5 §6.2.2).
      if (h.vr === 'SQ') return this.sequence(h.valueOffset, end, syn, depth + 1, true)
      if (h.vr === 'UN') return this.sequence(h.valueOffset, end, IMPLICIT_LITTLE, depth + 1, true)
      throw new InvalidDicomError(`undefined length in element ${tagKey(h.tag)} (${h.vr})`)
    }
    const valueEnd = h.valueOffset + h.length
    if (valueEnd > end) throw new InvalidDicomError(`truncated: element ${tagKey(h.tag)} needs ${h.length} bytes, ${end - h.valueOffset} left`)
    const size = FIXED_SIZE[h.vr]
    if (size !== undefined && h.length % size !== 0 && !(h.vr === 'OW' && h.tag === TAG_PIXEL_DATA)) {
      throw new InvalidDicomError(`length ${h.length} of ${tagKey(h.tag)} is not a multiple of ${size} (${h.vr})`)
    }
    if (h.vr === 'SQ') {
      this.sequence(h.valueOffset, valueEnd, syn, depth + 1, false)
    } else if (top && h.tag === TAG_PIXEL_DATA) {
      this.pixelData = { vr: h.vr, offset: h.valueOffset, length: h.length, end: valueEnd, encapsulated: false, fragments: [], fragmentCount: 0 }
    } else if (top) {
      const el: TopElement = { tag: h.tag, vr: h.vr, length: h.length }
      // A copy: a Buffer's slice() would alias the source's reusable window.
      if (h.length <= this.limits.keepValueBytes) el.value = new Uint8Array(this.src.bytes(h.valueOffset, h.length))
      this.elements.set(h.tag, el)
    }
    return valueEnd
  }

  sequence (pos: number, end: number, syn: Syntax, depth: number, delimited: boolean): number {
    // A delimited sequence ends at its delimiter (a header read past `end` throws); a defined one at `end`.
    for (;;) {
      if (!delimited && pos >= end) return pos
      const h = this.header(pos, end, syn)
      if (h.tag === TAG_SEQUENCE_DELIMITER) {
        if (!delimited || h.length !== 0) throw new InvalidDicomError(`unexpected sequence delimiter at byte ${pos}`)
        return h.valueOffset
      }
      if (h.tag !== TAG_ITEM) throw new InvalidDicomError(`expected an item, found ${tagKey(h.tag)} at byte ${pos}`)
      if (h.length === UNDEFINED_LENGTH) {
        pos = this.dataset(h.valueOffset, end, syn, depth, true)
      } else {
        const itemEnd = h.valueOffset + h.length
        if (itemEnd > end) throw new InvalidDicomError(`truncated: item at byte ${pos} needs ${h.length} bytes`)
        this.dataset(h.valueOffset, itemEnd, syn, depth, false)
        pos = itemEnd
      }
    }
  }

  encapsulated (h: Header, end: number, syn: Syntax): number {
    const info: PixelDataInfo = { vr: h.vr, offset: h.valueOffset, length: 0, end: h.valueOffset, encapsulated: true, fragments: [], fragmentCount: 0 }
    let pos = h.valueOffset
    let first = true
    for (;;) {
      const item = this.header(pos, end, syn)
      if (item.tag === TAG_SEQUENCE_DELIMITER) {
        if (item.length !== 0) throw new InvalidDicomError('pixel data sequence delimiter with a length')
        if (first) throw new InvalidDicomError('encapsulated pixel data without a basic offset table item')
        info.end = item.valueOffset
        this.pixelData = info
        return item.valueOffset
      }
      if (item.tag !== TAG_ITEM || item.length === UNDEFINED_LENGTH) throw new InvalidDicomError(`malformed pixel data fragment at byte ${pos}`)
      const fragEnd = item.valueOffset + item.length
      if (fragEnd > end) throw new InvalidDicomError(`truncated: pixel data fragment at byte ${pos} needs ${item.length} bytes`)
      if (!first) {
        if (info.fragments.length < MAX_KEPT_FRAGMENTS) info.fragments.push({ offset: item.valueOffset, length: item.length })
        info.fragmentCount++
        info.length += item.length
        if (++this.count > this.limits.maxElements) throw new InvalidDicomError(`more than ${this.limits.maxElements} elements`)
      }
      first = false
      pos = fragEnd
    }
  }
}

/** Walks a whole data set from `start` to `end` (the end of the file or of an inflated buffer). */
export function walkDataset (src: ByteSource, start: number, end: number, syn: Syntax, limits: WalkLimits): DatasetScan {
  const walk = new Walk(src, limits)
  const stop = walk.dataset(start, end, syn, 0, false)
  const scan: DatasetScan = { elements: walk.elements, sequences: walk.sequences, end: stop }
  if (walk.pixelData !== undefined) scan.pixelData = walk.pixelData
  return scan
}

/** The syntax of a transfer syntax UID; deflated data sets are inflated before the walk. */
export function syntaxOf (transferSyntaxUid: string): Syntax {
  if (transferSyntaxUid === '1.2.840.10008.1.2') return IMPLICIT_LITTLE
  if (transferSyntaxUid === '1.2.840.10008.1.2.2') return { littleEndian: false, explicitVr: true }
  return EXPLICIT_LITTLE
}
