/**
 * The DICOM File Meta Information (PS3.10 §7.1): a 128-byte preamble, "DICM",
 * then group 0002 in explicit VR little endian. Reading checks it; writing
 * builds it for a data set received over the network, which carries none.
 */
import { InvalidDicomError } from '../errors.js'
import type { ByteSource } from './source.js'

export const PREAMBLE_BYTES = 128
const MAX_META_BYTES = 64 * 1024

/** Our implementation class UID (PS3.7 §D.3.3.2), under the UUID-derived root 2.25 (PS3.5 §B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.213116871539460839062421196476372356651'
export const IMPLEMENTATION_VERSION = 'DM2_0.1'

export interface FileMeta {
  transferSyntaxUid: string
  mediaSopClassUid?: string
  mediaSopInstanceUid?: string
  /** Offset of the first data set element. */
  datasetOffset: number
}

function ascii (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1').replace(/[\0 ]+$/, '')
}

/** Reads and checks the File Meta Information of a Part 10 file. */
export function readFileMeta (src: ByteSource): FileMeta {
  if (src.size < PREAMBLE_BYTES + 4 || ascii(src.bytes(PREAMBLE_BYTES, 4)) !== 'DICM') {
    throw new InvalidDicomError('not a DICOM Part 10 file: no "DICM" prefix and File Meta Information')
  }
  let pos = PREAMBLE_BYTES + 4
  const values = new Map<number, string>()
  const limit = Math.min(src.size, pos + MAX_META_BYTES)
  while (pos + 8 <= src.size) {
    const h = src.bytes(pos, 8)
    const dv = new DataView(h.buffer, h.byteOffset, 8)
    if (dv.getUint16(0, true) !== 0x0002) break
    const element = dv.getUint16(2, true)
    const vr = String.fromCharCode(h[4] ?? 0, h[5] ?? 0)
    let length: number
    let valueOffset: number
    if (['OB', 'OW', 'UN', 'SQ', 'UT', 'UC', 'UR'].includes(vr)) {
      if (pos + 12 > src.size) break
      const l = src.bytes(pos + 8, 4)
      length = new DataView(l.buffer, l.byteOffset, 4).getUint32(0, true)
      valueOffset = pos + 12
    } else if (/^[A-Z]{2}$/.test(vr)) {
      length = dv.getUint16(6, true)
      valueOffset = pos + 8
    } else {
      throw new InvalidDicomError(`File Meta Information: invalid VR in (0002,${element.toString(16).padStart(4, '0')})`)
    }
    if (valueOffset + length > limit) throw new InvalidDicomError('File Meta Information truncated or too large')
    if (vr === 'UI') values.set(element, ascii(src.bytes(valueOffset, length)))
    pos = valueOffset + length
  }
  const transferSyntaxUid = values.get(0x0010)
  if (transferSyntaxUid === undefined || transferSyntaxUid === '') {
    throw new InvalidDicomError('File Meta Information has no TransferSyntaxUID (0002,0010)')
  }
  const meta: FileMeta = { transferSyntaxUid, datasetOffset: pos }
  const cls = values.get(0x0002)
  const inst = values.get(0x0003)
  if (cls !== undefined) meta.mediaSopClassUid = cls
  if (inst !== undefined) meta.mediaSopInstanceUid = inst
  return meta
}

function element (tag: number, vr: string, value: Uint8Array): Uint8Array {
  const long = vr === 'OB'
  const out = new Uint8Array((long ? 12 : 8) + value.length)
  const dv = new DataView(out.buffer)
  dv.setUint16(0, tag >>> 16, true)
  dv.setUint16(2, tag & 0xffff, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  if (long) dv.setUint32(8, value.length, true)
  else dv.setUint16(6, value.length, true)
  out.set(value, long ? 12 : 8)
  return out
}

/** A text value padded to even length: UIs with NUL, other VRs with a space (PS3.5 §6.2). */
function text (value: string, pad: '\0' | ' '): Uint8Array {
  const s = value.length % 2 === 1 ? value + pad : value
  return new Uint8Array(Buffer.from(s, 'latin1'))
}

export interface MetaFields {
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
  /** Calling AE of the association the data set came on (0002,0016). */
  sourceAeTitle?: string
}

/** The preamble, prefix and File Meta Information for a data set received over the network. */
export function encodeFileMeta (fields: MetaFields): Uint8Array {
  const items = [
    element(0x00020001, 'OB', new Uint8Array([0, 1])),
    element(0x00020002, 'UI', text(fields.sopClassUid, '\0')),
    element(0x00020003, 'UI', text(fields.sopInstanceUid, '\0')),
    element(0x00020010, 'UI', text(fields.transferSyntaxUid, '\0')),
    element(0x00020012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x00020013, 'SH', text(IMPLEMENTATION_VERSION, ' '))
  ]
  if (fields.sourceAeTitle !== undefined && fields.sourceAeTitle !== '') {
    items.push(element(0x00020016, 'AE', text(fields.sourceAeTitle.slice(0, 16), ' ')))
  }
  const groupLength = items.reduce((n, e) => n + e.length, 0)
  const lengthValue = new Uint8Array(4)
  new DataView(lengthValue.buffer).setUint32(0, groupLength, true)
  const parts = [new Uint8Array(PREAMBLE_BYTES), new Uint8Array(Buffer.from('DICM', 'latin1')), element(0x00020000, 'UL', lengthValue), ...items]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
