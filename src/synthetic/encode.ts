/**
 * Part 10 encoding (PS3.10 §7.1: preamble, "DICM", File Meta Information)
 * through dcmjs, plus the two compressed transfer syntaxes dcmjs does not
 * produce itself: RLE Lossless (PS3.5 Annex G) and Deflated Explicit VR
 * Little Endian (PS3.5 §A.5, raw deflate of everything after the meta).
 */
import { deflateRawSync } from 'node:zlib'
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, TRANSFER_SYNTAX } from './constants.js'
import type { TransferSyntaxName } from './constants.js'
import { dcmjs } from './dcmjs.js'

/** PackBits of one row of bytes (PS3.5 G.3.1); runs and literals of at most 128. */
function packBits (src: Uint8Array, out: number[]): void {
  let i = 0
  const n = src.length
  while (i < n) {
    let run = 1
    while (i + run < n && run < 128 && src[i + run] === src[i]) run++
    if (run >= 2) {
      out.push(257 - run, src[i] ?? 0)
      i += run
      continue
    }
    const start = i
    i++
    while (i < n && i - start < 128 && !(i + 1 < n && src[i] === src[i + 1])) i++
    out.push(i - start - 1)
    for (let p = start; p < i; p++) out.push(src[p] ?? 0)
  }
}

/**
 * RLE Lossless encoding of one 16-bit frame: two segments, most significant
 * byte plane first (PS3.5 G.2), each row encoded separately; segments padded
 * to even length; the 64-byte header holds the segment count and offsets.
 */
export function rleEncodeFrame16 (pixels: Int16Array | Uint16Array, rows: number, columns: number): Uint8Array {
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)
  const segments: number[][] = []
  for (const plane of [1, 0]) { // little-endian memory: byte 1 is the MSB
    const seg: number[] = []
    const row = new Uint8Array(columns)
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < columns; i++) row[i] = bytes[(j * columns + i) * 2 + plane] ?? 0
      packBits(row, seg)
    }
    if (seg.length % 2 === 1) seg.push(0x80) // -128: a no-op PackBits code used as padding
    segments.push(seg)
  }
  const total = 64 + segments.reduce((s, seg) => s + seg.length, 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  view.setUint32(0, segments.length, true)
  let offset = 64
  segments.forEach((seg, s) => {
    view.setUint32(4 + 4 * s, offset, true)
    out.set(seg, offset)
    offset += seg.length
  })
  return out
}

/**
 * Encodes a naturalized dataset whose `PixelData` holds one uncompressed
 * buffer of `frames` 16-bit frames, in the given transfer syntax.
 */
export function encodePart10 (dataset: Record<string, unknown>, pixels: Int16Array | Uint16Array, frames: number, syntax: TransferSyntaxName): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data
  const tsUid = TRANSFER_SYNTAX[syntax]
  const rows = Number(dataset.Rows)
  const columns = Number(dataset.Columns)
  let pixelValue: ArrayBuffer[]
  if (syntax === 'rle') {
    const frameLength = rows * columns
    pixelValue = []
    for (let f = 0; f < frames; f++) {
      const frame = pixels.subarray(f * frameLength, (f + 1) * frameLength)
      pixelValue.push(rleEncodeFrame16(frame, rows, columns).slice().buffer)
    }
  } else {
    const copy = new Uint8Array(pixels.slice().buffer)
    // dcmjs copies OW bytes as they are, whatever the byte order of the
    // syntax: Explicit VR Big Endian (PS3.5 §A.3) needs each word swapped here.
    if (syntax === 'explicit-be') {
      for (let i = 0; i + 1 < copy.length; i += 2) {
        const t = copy[i] ?? 0
        copy[i] = copy[i + 1] ?? 0
        copy[i + 1] = t
      }
    }
    pixelValue = [copy.buffer]
  }
  const full = {
    ...dataset,
    PixelData: pixelValue,
    _vrMap: { PixelData: syntax === 'rle' ? 'OB' : 'OW' }
  }
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: tsUid,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME
  }
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta))
  dict.dict = DicomMetaDictionary.denaturalizeDataset(full)
  // RLE: one fragment per frame (PS3.5 §A.4.2).
  const bytes = new Uint8Array(dict.write({ allowInvalidVRLength: false, fragmentMultiframe: false }))
  if (syntax !== 'deflated') return bytes
  // dcmjs writes an unknown syntax as Explicit VR Little Endian; deflate what follows the meta group.
  const metaLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(128 + 4 + 8, true)
  const bodyStart = 128 + 4 + 12 + metaLength
  const body = deflateRawSync(bytes.subarray(bodyStart))
  const out = new Uint8Array(bodyStart + body.length)
  out.set(bytes.subarray(0, bodyStart))
  out.set(body, bodyStart)
  return out
}
