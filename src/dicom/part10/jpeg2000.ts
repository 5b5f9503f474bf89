/**
 * The image header of a JPEG 2000 codestream (ISO/IEC 15444-1 Annex A.5.1,
 * SIZ marker), checked against the DICOM image pixel module: PS3.5 §8.2.4
 * requires the codestream's size, components and signedness to agree with
 * Rows, Columns, Samples per Pixel and Pixel Representation.
 */
import { InvalidDicomError } from '../errors.js'

export interface J2kHeader {
  width: number
  height: number
  components: number
  /** Per component: signed flag and bit depth. */
  signed: boolean
  precision: number
}

/** Finds and decodes the SIZ marker segment in the first bytes of a codestream (raw or JP2-wrapped). */
export function readJ2kHeader (bytes: Uint8Array): J2kHeader | undefined {
  for (let i = 0; i + 44 <= bytes.length; i++) {
    if (bytes[i] !== 0xff || bytes[i + 1] !== 0x4f || bytes[i + 2] !== 0xff || bytes[i + 3] !== 0x51) continue
    const dv = new DataView(bytes.buffer, bytes.byteOffset + i + 2, bytes.length - i - 2)
    // SIZ: marker(2) Lsiz(2) Rsiz(2) Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz (4 each) Csiz(2) Ssiz(1)...
    const width = dv.getUint32(6) - dv.getUint32(14)
    const height = dv.getUint32(10) - dv.getUint32(18)
    const components = dv.getUint16(38)
    const ssiz = dv.getUint8(40)
    return { width, height, components, signed: (ssiz & 0x80) !== 0, precision: (ssiz & 0x7f) + 1 }
  }
  return undefined
}

export interface PixelModule {
  rows: number
  columns: number
  samplesPerPixel: number
  pixelRepresentation: number
  bitsAllocated: number
}

/** Checks a codestream header against the pixel module; throws `InvalidDicomError` on a mismatch. */
export function checkJ2kHeader (header: J2kHeader | undefined, pixel: PixelModule): void {
  if (header === undefined) throw new InvalidDicomError('JPEG 2000 pixel data without a SIZ marker in its first fragment')
  if (header.width !== pixel.columns || header.height !== pixel.rows) {
    throw new InvalidDicomError(`JPEG 2000 codestream is ${header.width}x${header.height}, Columns x Rows is ${pixel.columns}x${pixel.rows}`)
  }
  if (header.components !== pixel.samplesPerPixel) {
    throw new InvalidDicomError(`JPEG 2000 codestream has ${header.components} components, SamplesPerPixel is ${pixel.samplesPerPixel}`)
  }
  if (header.signed !== (pixel.pixelRepresentation === 1)) {
    throw new InvalidDicomError(`JPEG 2000 codestream is ${header.signed ? 'signed' : 'unsigned'}, PixelRepresentation is ${pixel.pixelRepresentation} (PS3.5 §8.2.4)`)
  }
  if (header.precision > pixel.bitsAllocated) {
    throw new InvalidDicomError(`JPEG 2000 precision ${header.precision} exceeds BitsAllocated ${pixel.bitsAllocated}`)
  }
}
