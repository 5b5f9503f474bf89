/**
 * Compact binary encoding of Features, for the registry's descriptive
 * metadata and for similarity queries between sites. Little-endian:
 *
 *   off  size  field
 *     0     4  magic "DM2F"
 *     4     1  format version (1)
 *     5     1  flags: bit 0 = thumbnail as uint16 (else float32); others 0
 *     6     1  thumbnail edge (8…64)
 *     7     1  reserved, 0
 *     8     2  histogram bins (8…256)
 *    10     1  modality length (1…16)      11  1  body part length (0…16)
 *    12     8  range lo (float64)          20  8  range hi (float64)
 *    28    24  extent R, A, S in mm (3 × float64)
 *    52        modality, body part (ASCII DICOM CS)
 *              histogram (bins × float32)
 *              thumbnail (size³ × uint16, v·65535 rounded; or × float32)
 *   end−4   4  CRC-32 (ISO-HDLC, as zlib) of every byte before it
 *
 * A 32³ thumbnail quantized to uint16 is 64 KiB (step 1/65535 of the range,
 * 1/16 HU for CT); the whole record is 66 KiB. The decoder refuses anything
 * longer than MAX_ENCODED_FEATURES_BYTES before reading it, checks every
 * length, the checksum and every value, and fails with a typed error.
 */
import { FEATURES_MAGIC, FEATURES_VERSION, MAX_ENCODED_FEATURES_BYTES, MAX_KEY_LENGTH } from './constants.js'
import { crc32 } from './crc32.js'
import { FeaturesTooLargeError, InvalidFeaturesError, SimilarityOptionsError, UnsupportedFeaturesVersionError } from './errors.js'
import { checkFeatures, thumbnailBounds } from './features.js'
import type { Features } from './types.js'

const HEADER = 52
const QUANTIZED = 1
const Q = 65535

export interface EncodeOptions {
  /** 'uint16' (default, half the size) or 'float32' (exact). */
  thumbnail?: 'uint16' | 'float32'
}

function ascii (s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

/** Encodes features (checked first: InvalidFeaturesError when malformed). */
export function encodeFeatures (f: Features, options: EncodeOptions = {}): Uint8Array {
  checkFeatures(f)
  const mode = options.thumbnail ?? 'uint16'
  if (mode !== 'uint16' && mode !== 'float32') throw new SimilarityOptionsError('thumbnail', 'expected uint16 or float32')
  const modality = ascii(f.keys.modality)
  const bodyPart = ascii(f.keys.bodyPart)
  const bins = f.histogram.length
  const voxels = f.thumbnail.length
  const bytesPer = mode === 'uint16' ? 2 : 4
  const length = HEADER + modality.length + bodyPart.length + 4 * bins + bytesPer * voxels + 4
  const out = new Uint8Array(length)
  const v = new DataView(out.buffer)
  out.set(ascii(FEATURES_MAGIC), 0)
  v.setUint8(4, FEATURES_VERSION)
  v.setUint8(5, mode === 'uint16' ? QUANTIZED : 0)
  v.setUint8(6, f.size)
  v.setUint16(8, bins, true)
  v.setUint8(10, modality.length)
  v.setUint8(11, bodyPart.length)
  v.setFloat64(12, f.range[0], true)
  v.setFloat64(20, f.range[1], true)
  for (let a = 0; a < 3; a++) v.setFloat64(28 + 8 * a, f.extent[a] as number, true)
  let o = HEADER
  out.set(modality, o); o += modality.length
  out.set(bodyPart, o); o += bodyPart.length
  for (let b = 0; b < bins; b++, o += 4) v.setFloat32(o, f.histogram[b] as number, true)
  if (mode === 'uint16') {
    for (let i = 0; i < voxels; i++, o += 2) v.setUint16(o, Math.round((f.thumbnail[i] as number) * Q), true)
  } else {
    for (let i = 0; i < voxels; i++, o += 4) v.setFloat32(o, f.thumbnail[i] as number, true)
  }
  v.setUint32(o, crc32(out.subarray(0, o)), true)
  return out
}

function text (bytes: Uint8Array, from: number, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += String.fromCharCode(bytes[from + i] as number)
  return s
}

/** Decodes features; FeaturesTooLargeError, UnsupportedFeaturesVersionError or InvalidFeaturesError on bad input. */
export function decodeFeatures (bytes: Uint8Array): Features {
  if (!(bytes instanceof Uint8Array)) throw new InvalidFeaturesError('not a Uint8Array')
  if (bytes.length > MAX_ENCODED_FEATURES_BYTES) throw new FeaturesTooLargeError(bytes.length, MAX_ENCODED_FEATURES_BYTES)
  if (bytes.length < HEADER + 1 + 4) throw new InvalidFeaturesError('truncated header')
  if (text(bytes, 0, 4) !== FEATURES_MAGIC) throw new InvalidFeaturesError('bad magic')
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = v.getUint8(4)
  if (version !== FEATURES_VERSION) throw new UnsupportedFeaturesVersionError(version)
  const flags = v.getUint8(5)
  if ((flags & ~QUANTIZED) !== 0 || v.getUint8(7) !== 0) throw new InvalidFeaturesError('unknown flags')
  const size = v.getUint8(6)
  const bins = v.getUint16(8, true)
  const ml = v.getUint8(10)
  const bl = v.getUint8(11)
  // limits on sizes are checked by checkFeatures below; bound them here so the length check cannot overflow
  if (size === 0 || bins === 0 || ml > MAX_KEY_LENGTH || bl > MAX_KEY_LENGTH) throw new InvalidFeaturesError('size fields out of range')
  const bytesPer = (flags & QUANTIZED) !== 0 ? 2 : 4
  const voxels = size ** 3
  const expected = HEADER + ml + bl + 4 * bins + bytesPer * voxels + 4
  if (bytes.length !== expected) throw new InvalidFeaturesError(`length ${bytes.length}, header implies ${expected}`)
  if (crc32(bytes.subarray(0, expected - 4)) !== v.getUint32(expected - 4, true)) throw new InvalidFeaturesError('checksum mismatch')
  let o = HEADER
  const modality = text(bytes, o, ml); o += ml
  const bodyPart = text(bytes, o, bl); o += bl
  const histogram = new Float32Array(bins)
  for (let b = 0; b < bins; b++, o += 4) histogram[b] = v.getFloat32(o, true)
  const thumbnail = new Float32Array(voxels)
  if (bytesPer === 2) {
    for (let i = 0; i < voxels; i++, o += 2) thumbnail[i] = v.getUint16(o, true) / Q
  } else {
    for (let i = 0; i < voxels; i++, o += 4) thumbnail[i] = v.getFloat32(o, true)
  }
  const { min, max } = thumbnailBounds(thumbnail)
  const features: Features = {
    keys: { modality, bodyPart },
    histogram,
    range: [v.getFloat64(12, true), v.getFloat64(20, true)],
    size,
    thumbnail,
    extent: [v.getFloat64(28, true), v.getFloat64(36, true), v.getFloat64(44, true)],
    thumbnailMin: min,
    thumbnailMax: max
  }
  checkFeatures(features)
  return features
}
