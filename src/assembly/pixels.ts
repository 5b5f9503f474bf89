/**
 * One frame's stored values out of PixelData (PS3.5 §8): native frames at
 * a fixed byte (or, for 1-bit, bit) offset, byte-swapped for big endian;
 * RLE frames decoded; BitsStored < BitsAllocated masked and sign-extended
 * (PS3.5 §8.1.1, values sit in bits HighBit−BitsStored+1 … HighBit).
 */
import { InvalidDicomError, UnsupportedImageError } from './errors.js'
import type { PixelFormat } from './header.js'
import { rleDecodeFrame } from './rle.js'
import type { PixelEncoding } from './transfer-syntax.js'

export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array

/** Checks that a format is one assembly turns into a scalar volume. */
export function checkFormat (f: PixelFormat, source: string): void {
  if (f.samplesPerPixel !== 1) throw new UnsupportedImageError(source, `SamplesPerPixel ${f.samplesPerPixel} (colour) is not assembled into a scalar volume`)
  if (f.photometric !== 'MONOCHROME2' && f.photometric !== 'MONOCHROME1') {
    throw new UnsupportedImageError(source, `PhotometricInterpretation ${f.photometric || '(none)'} is not assembled (only MONOCHROME1/2)`)
  }
  if (![1, 8, 16, 32].includes(f.bitsAllocated)) throw new UnsupportedImageError(source, `BitsAllocated ${f.bitsAllocated}`)
  if (f.bitsStored < 1 || f.bitsStored > f.bitsAllocated || f.highBit < f.bitsStored - 1 || f.highBit >= f.bitsAllocated) {
    throw new InvalidDicomError(source, `BitsStored ${f.bitsStored} / HighBit ${f.highBit} do not fit BitsAllocated ${f.bitsAllocated}`)
  }
  if (f.rows < 1 || f.columns < 1) throw new InvalidDicomError(source, 'Rows or Columns is 0')
}

/** Bytes one native frame takes (1-bit frames are counted in bits and may not start on a byte). */
export function frameBytes (f: PixelFormat): number {
  return f.rows * f.columns * f.bitsAllocated / 8
}

function view (bytes: Uint8Array, f: PixelFormat): StoredArray {
  const signed = f.pixelRepresentation === 1
  const aligned = bytes.byteOffset % (f.bitsAllocated / 8) === 0 ? bytes : bytes.slice()
  const n = f.rows * f.columns
  switch (f.bitsAllocated) {
    case 8: return signed ? new Int8Array(aligned.buffer, aligned.byteOffset, n) : new Uint8Array(aligned.buffer, aligned.byteOffset, n)
    case 16: return signed ? new Int16Array(aligned.buffer, aligned.byteOffset, n) : new Uint16Array(aligned.buffer, aligned.byteOffset, n)
    default: return signed ? new Int32Array(aligned.buffer, aligned.byteOffset, n) : new Uint32Array(aligned.buffer, aligned.byteOffset, n)
  }
}

function swapInPlace (bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) bytes.subarray(i, i + width).reverse()
}

/** Keeps bits HighBit−BitsStored+1 … HighBit, sign-extended when signed (bitsStored < 32 here). */
function maskStored (a: StoredArray, f: PixelFormat): void {
  const shift = f.highBit + 1 - f.bitsStored
  const mask = 2 ** f.bitsStored - 1
  const extend = 32 - f.bitsStored
  const signed = f.pixelRepresentation === 1
  for (let i = 0; i < a.length; i++) {
    const v = ((a[i] ?? 0) >>> shift) & mask
    a[i] = signed ? (v << extend) >> extend : v
  }
}

/**
 * Stored values of frame `index`. `pixelData` is dcmjs's PixelData value:
 * one buffer for native syntaxes, one buffer per frame for encapsulated.
 */
export function decodeFrame (pixelData: Uint8Array[], index: number, frames: number, f: PixelFormat, encoding: PixelEncoding, source: string): StoredArray {
  const n = f.rows * f.columns
  if (f.bitsAllocated === 1) {
    if (encoding === 'rle') throw new UnsupportedImageError(source, 'RLE-compressed 1-bit pixels')
    const all = pixelData[0] ?? new Uint8Array(0)
    if (all.length * 8 < n * frames) throw new InvalidDicomError(source, 'PixelData shorter than its frames')
    const out = new Uint8Array(n)
    const bit0 = index * n // 1-bit frames are packed back to back, LSB first (PS3.5 §8.1.1)
    for (let p = 0; p < n; p++) {
      const b = bit0 + p
      out[p] = ((all[b >> 3] ?? 0) >> (b & 7)) & 1
    }
    return out
  }
  const bytesPerSample = f.bitsAllocated / 8
  let bytes: Uint8Array
  if (encoding === 'rle') {
    const frame = pixelData.length === frames
      ? pixelData[index]
      : frames === 1 ? concat(pixelData) : undefined
    if (frame === undefined) throw new InvalidDicomError(source, `${pixelData.length} fragments for ${frames} RLE frames`)
    const decoded = rleDecodeFrame(frame, n, bytesPerSample)
    if (typeof decoded === 'string') throw new InvalidDicomError(source, decoded)
    bytes = decoded
  } else {
    const all = pixelData[0]
    const size = frameBytes(f)
    if (all === undefined || all.byteLength < size * frames) throw new InvalidDicomError(source, 'PixelData shorter than its frames')
    bytes = all.subarray(index * size, (index + 1) * size)
    if (encoding === 'native-be' && bytesPerSample > 1) {
      bytes = bytes.slice()
      swapInPlace(bytes, bytesPerSample)
    }
  }
  const out = view(bytes, f)
  if (f.bitsStored !== f.bitsAllocated || f.highBit !== f.bitsStored - 1) {
    const copy = out.slice()
    maskStored(copy, f)
    return copy
  }
  return out
}

function concat (parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((s, p) => s + p.byteLength, 0)
  const out = new Uint8Array(total)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.byteLength
  }
  return out
}
