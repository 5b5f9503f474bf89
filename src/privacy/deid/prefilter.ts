/**
 * What the value parser gets: the top-level elements the profile may keep, behind a minimal File
 * Meta Information. Private groups and group lengths (always removed, PS3.15 E.1.1) and Pixel Data
 * (copied verbatim) are cut out by byte range first, so dcmjs never reads vendor private data and
 * does not spend time on it (CT objects often carry hundreds of private elements). A Deflated data
 * set arrives here inflated and is labelled Explicit VR Little Endian.
 */
import { TS_DEFLATED_LE, TS_EXPLICIT_LE } from './constants.js'
import type { Framing } from './framing.js'
import type { ReportReason } from './report.js'
import { isPrivateTag } from './table/index.js'

export interface Prefiltered {
  /** A PS3.10 file for dcmjs. */
  bytes: Uint8Array
  /** Transfer syntax of `bytes` (and of the output). */
  transferSyntaxUid: string
  /** Top-level elements cut out here, for the report. */
  removed: Array<{ tag: string, reason: ReportReason }>
  /** What dcmjs must find: these top-level tags, and this many elements at any depth (unless opaque). */
  expected: { tags: string[], count: number, opaque: boolean }
}

function metaElement (element: number, vr: string, value: Uint8Array): Uint8Array {
  const out = new Uint8Array((vr === 'OB' ? 12 : 8) + value.byteLength)
  const view = new DataView(out.buffer)
  view.setUint16(0, 0x0002, true)
  view.setUint16(2, element, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  if (vr === 'OB') view.setUint32(8, value.byteLength, true)
  else view.setUint16(6, value.byteLength, true)
  out.set(value, vr === 'OB' ? 12 : 8)
  return out
}

const uidBytes = (uid: string): Uint8Array => new TextEncoder().encode(uid.length % 2 === 1 ? `${uid}\0` : uid)

/** Meta group with its length, version and transfer syntax: what a PS3.10 reader needs to find the data set. */
function minimalMeta (transferSyntaxUid: string): Uint8Array {
  const body = [metaElement(0x0001, 'OB', new Uint8Array([0, 1])), metaElement(0x0010, 'UI', uidBytes(transferSyntaxUid))]
  const bodyLength = body.reduce((n, b) => n + b.byteLength, 0)
  const length = new Uint8Array(4)
  new DataView(length.buffer).setUint32(0, bodyLength, true)
  return concat([metaElement(0x0000, 'UL', length), ...body])
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

export function prefilter (framing: Framing): Prefiltered {
  const transferSyntaxUid = framing.transferSyntaxUid === TS_DEFLATED_LE ? TS_EXPLICIT_LE : framing.transferSyntaxUid
  const removed: Prefiltered['removed'] = []
  const kept: Uint8Array[] = []
  const expected: Prefiltered['expected'] = { tags: [], count: 0, opaque: false }
  for (const e of framing.elements) {
    if (isPrivateTag(e.tag)) { removed.push({ tag: e.tag, reason: 'private' }); continue }
    if (e.tag.endsWith('0000')) { removed.push({ tag: e.tag, reason: 'group-length' }); continue }
    kept.push(framing.dataset.subarray(e.start, e.end))
    expected.tags.push(e.tag)
    expected.count += e.count
    expected.opaque ||= e.opaque
  }
  const preamble = new Uint8Array(132)
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128) // "DICM"
  return { bytes: concat([preamble, minimalMeta(transferSyntaxUid), ...kept]), transferSyntaxUid, removed, expected }
}
