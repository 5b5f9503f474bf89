/**
 * Which transfer syntaxes assembly can decode (PS3.5 §10, Annex A).
 *
 * Decoded: Implicit VR Little Endian, Explicit VR Little Endian, Explicit VR
 * Big Endian (retired, words swapped here: dcmjs hands OW bytes over as
 * they are), Deflated Explicit VR Little Endian (dcmjs inflates; we bound
 * the inflated size first), RLE Lossless (PS3.5 Annex G, decoded here).
 *
 * Refused with UnsupportedTransferSyntaxError: every JPEG family syntax
 * (baseline, extended, lossless, JPEG-LS, JPEG 2000, HTJ2K, JPEG XL) and
 * video (MPEG-2/4, HEVC), because dcmjs 0.50 only splits their fragments and
 * ships no codec; decoding them needs a WASM codec package (e.g. the
 * @cornerstonejs/codec-* family), which this project does not depend on.
 * JPIP and any unknown UID are refused too (no pixel data to decode here).
 */

export type PixelEncoding = 'native-le' | 'native-be' | 'rle'

const NATIVE: Record<string, PixelEncoding> = {
  '1.2.840.10008.1.2': 'native-le',
  '1.2.840.10008.1.2.1': 'native-le',
  '1.2.840.10008.1.2.1.99': 'native-le',
  '1.2.840.10008.1.2.2': 'native-be',
  '1.2.840.10008.1.2.5': 'rle'
}

export const DEFLATED_TS = '1.2.840.10008.1.2.1.99'

/** The encoding of a supported syntax, or the reason it is refused. */
export function classifyTransferSyntax (uid: string): { encoding: PixelEncoding } | { refused: string } {
  const encoding = NATIVE[uid]
  if (encoding !== undefined) return { encoding }
  if (/^1\.2\.840\.10008\.1\.2\.4\.(5\d|6\d|70|8[01]|9[0-3]|20[1-3]|11[0-2])$/.test(uid)) {
    return { refused: 'JPEG-family compressed pixels need a codec that dcmjs 0.50 does not include' }
  }
  if (/^1\.2\.840\.10008\.1\.2\.4\.10\d$/.test(uid)) return { refused: 'video (MPEG/HEVC) cannot be assembled into a volume' }
  if (/^1\.2\.840\.10008\.1\.2\.4\.9[45]$/.test(uid)) return { refused: 'JPIP referenced pixel data is not in the object' }
  return { refused: 'unknown transfer syntax' }
}
