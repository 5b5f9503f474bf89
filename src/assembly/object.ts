/**
 * Parsing one Part 10 object (PS3.10 §7.1): the header alone (stopping
 * before PixelData, so pass 1 never touches pixels; a plain single-frame
 * image through the node's own walker, see walked-header.ts, anything else
 * through dcmjs) and, later, the PixelData value. Every failure is a typed
 * error naming the source.
 */
import { inflateRawSync } from 'node:zlib'
import { MAX_OBJECT_BYTES } from './constants.js'
import { dcmjs } from './dcmjs.js'
import type { NaturalDataset } from './dcmjs.js'
import { InvalidDicomError, UnsupportedTransferSyntaxError } from './errors.js'
import { DEFLATED_TS, classifyTransferSyntax } from './transfer-syntax.js'
import type { PixelEncoding } from './transfer-syntax.js'
import type { DatasetWalk } from '../dicom/part10/index.js'
import { headerOfWalk, walkedHeader } from './walked-header.js'

const PIXEL_DATA = '7FE00010'

export type HeaderResult =
  | { kind: 'image', ds: NaturalDataset, transferSyntaxUID: string, encoding: PixelEncoding, reader: 'walker' | 'dcmjs' }
  | { kind: 'skipped', reason: string }

function arrayBufferOf (bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : bytes.slice().buffer
}

function isPart10 (bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

/**
 * Reads the File Meta Information group (always Explicit VR Little Endian,
 * PS3.10 §7.1) by hand: its TransferSyntaxUID and where the dataset starts.
 * dcmjs would inflate a deflated dataset, without a size cap, before we can
 * even see the syntax.
 */
function fileMeta (bytes: Uint8Array, source: string): { ts: string, bodyStart: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let o = 132
  let ts = ''
  while (o + 8 <= bytes.length && v.getUint16(o, true) === 0x0002) {
    const element = v.getUint16(o + 2, true)
    const vr = String.fromCharCode(bytes[o + 4] ?? 0, bytes[o + 5] ?? 0)
    let length: number
    let valueStart: number
    if (LONG_VRS.has(vr)) {
      if (o + 12 > bytes.length) break
      length = v.getUint32(o + 8, true)
      valueStart = o + 12
    } else {
      length = v.getUint16(o + 6, true)
      valueStart = o + 8
    }
    if (length === 0xffffffff || valueStart + length > bytes.length) {
      throw new InvalidDicomError(source, 'File Meta Information element runs past the end of the file')
    }
    if (element === 0x0010) {
      ts = Buffer.from(bytes.subarray(valueStart, valueStart + length)).toString('latin1').replace(/[\0 ]+$/, '')
    }
    o = valueStart + length
  }
  return { ts, bodyStart: o }
}

/** A deflated dataset is inflated under a size cap first: dcmjs would inflate without one. */
function checkDeflated (bytes: Uint8Array, bodyStart: number, source: string): void {
  try {
    inflateRawSync(bytes.subarray(bodyStart), { maxOutputLength: MAX_OBJECT_BYTES })
  } catch (err) {
    throw new InvalidDicomError(source, `deflated dataset does not inflate within ${MAX_OBJECT_BYTES} bytes: ${(err as Error).message}`)
  }
}

/**
 * Parses the header; refuses transfer syntaxes we cannot decode before any
 * pixel is read. `walk`: these bytes were already walked (an instance
 * inspected in memory at its arrival, see DatasetWalk), and a plain image's
 * header is taken from that walk instead of a second one.
 */
export function parseHeader (bytes: Uint8Array, source: string, options: { reader?: 'auto' | 'dcmjs', walk?: DatasetWalk } = {}): HeaderResult {
  if (bytes.length > MAX_OBJECT_BYTES) throw new InvalidDicomError(source, `larger than ${MAX_OBJECT_BYTES} bytes`)
  if (!isPart10(bytes)) return { kind: 'skipped', reason: 'not a DICOM Part 10 file' }
  const { ts, bodyStart } = fileMeta(bytes, source)
  if (ts === '') throw new InvalidDicomError(source, 'no TransferSyntaxUID in the File Meta Information')
  const cls = classifyTransferSyntax(ts)
  if ('refused' in cls) throw new UnsupportedTransferSyntaxError(source, ts, cls.refused)
  if (ts === DEFLATED_TS) checkDeflated(bytes, bodyStart, source)
  // A plain single-frame image: the node's own walker (walked-header.ts); anything else: dcmjs.
  const walked = options.reader === 'dcmjs'
    ? undefined
    : options.walk?.transferSyntaxUid === ts ? headerOfWalk(options.walk) : walkedHeader(bytes, bodyStart, ts)
  if (walked !== undefined) return { kind: 'image', ds: walked, transferSyntaxUID: ts, encoding: cls.encoding, reader: 'walker' }
  let file: ReturnType<typeof dcmjs.data.DicomMessage.readFile>
  try {
    file = dcmjs.data.DicomMessage.readFile(arrayBufferOf(bytes), { untilTag: PIXEL_DATA, includeUntilTagValue: false })
  } catch (err) {
    throw new InvalidDicomError(source, `unreadable dataset: ${(err as Error).message}`)
  }
  if (!(PIXEL_DATA in file.dict)) return { kind: 'skipped', reason: 'no PixelData' }
  delete file.dict[PIXEL_DATA]
  return { kind: 'image', ds: dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict), transferSyntaxUID: ts, encoding: cls.encoding, reader: 'dcmjs' }
}

/** Declared end of a PixelData element whose tag starts at `o`, or undefined if no plausible header is there. */
function pixelDataEnd (bytes: Uint8Array, v: DataView, o: number): number | 'undefined-length' | undefined {
  const le = bytes[o] === 0xe0 && bytes[o + 1] === 0x7f && bytes[o + 2] === 0x10 && bytes[o + 3] === 0x00
  const be = bytes[o] === 0x7f && bytes[o + 1] === 0xe0 && bytes[o + 2] === 0x00 && bytes[o + 3] === 0x10
  if ((!le && !be) || o + 8 > bytes.length) return undefined
  const vr = String.fromCharCode(bytes[o + 4] ?? 0, bytes[o + 5] ?? 0)
  if (vr === 'OB' || vr === 'OW') {
    if (o + 12 > bytes.length || bytes[o + 6] !== 0 || bytes[o + 7] !== 0) return undefined
    const length = v.getUint32(o + 8, le)
    return length === 0xffffffff ? 'undefined-length' : o + 12 + length
  }
  if (!le) return undefined
  const length = v.getUint32(o + 4, true) // Implicit VR Little Endian
  return length === 0xffffffff ? 'undefined-length' : o + 8 + length
}

/**
 * dcmjs hands back a full-length PixelData even when the file ends early.
 * Find the PixelData element header ourselves (where a complete file has
 * it, else the first plausible one after the meta group) and check that
 * its declared length fits in the file. Encapsulated values are checked by
 * dcmjs's item parsing, deflated ones by inflation.
 */
function checkNotTruncated (bytes: Uint8Array, expectedLength: number, source: string): number | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const even = expectedLength + (expectedLength % 2)
  for (const [o, header] of [[bytes.length - even - 12, 12], [bytes.length - even - 8, 8]] as const) {
    if (o >= 132 && pixelDataEnd(bytes, v, o) === bytes.length) return o + header
  }
  for (let o = 132; o + 8 <= bytes.length; o++) {
    const end = pixelDataEnd(bytes, v, o)
    if (end === undefined) continue
    if (end !== 'undefined-length' && end > bytes.length) {
      throw new InvalidDicomError(source, `PixelData runs ${end - bytes.length} bytes past the end of the file (truncated)`)
    }
    return undefined
  }
  return undefined
}

/**
 * The PixelData value: one buffer (native) or one per frame (encapsulated).
 * A native, non-deflated object whose PixelData is its last element (the
 * usual case) is answered with a view into `bytes`, without a second parse.
 */
export function readPixelData (bytes: Uint8Array, source: string, expectedLength: number, encoding: PixelEncoding, deflated: boolean): Uint8Array[] {
  const start = checkNotTruncated(bytes, expectedLength, source)
  if (start !== undefined && encoding !== 'rle' && !deflated) return [bytes.subarray(start, start + expectedLength)]
  let value: unknown
  try {
    const file = dcmjs.data.DicomMessage.readFile(arrayBufferOf(bytes))
    value = file.dict[PIXEL_DATA]?.Value
  } catch (err) {
    throw new InvalidDicomError(source, `unreadable dataset: ${(err as Error).message}`)
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every(v => v instanceof ArrayBuffer)) {
    throw new InvalidDicomError(source, 'PixelData missing or empty')
  }
  return (value as ArrayBuffer[]).map(b => new Uint8Array(b))
}
