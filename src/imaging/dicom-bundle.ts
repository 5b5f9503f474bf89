/**
 * The DICOM form of an image (`getImage(lfn, { format: 'dicom' })`): the
 * series' objects, each de-identified at the master (PS3.15 Annex E basic
 * profile, src/privacy/deid), one after the other in a plain container that
 * the requester unpacks into a folder of Part 10 files:
 *
 *   "DM2DCM1\n" ‖ ( uint32be length ‖ object )*
 *
 * Objects are named by position (IM00001.dcm, …) at the requester: original
 * file names may carry identifiers. The container is encrypted and chunked
 * like a volume; this module only frames and unframes it, with a size cap on
 * each object (bad input: a typed error, nothing written).
 */
import { BundleFormatError } from './errors.js'

export const BUNDLE_MAGIC = new TextEncoder().encode('DM2DCM1\n')
/** Largest object a bundle may carry (the assembly's own cap on one object). */
export const MAX_BUNDLE_OBJECT_BYTES = 2 * 1024 * 1024 * 1024 - 1

/** The id an image of `lfn` in `format` is cached, keyed and indexed under (the NIfTI one is the LFN itself). */
export function imageId (lfn: string, format: ImageFormat): string {
  return format === 'nifti' ? lfn : `${lfn}${DICOM_SUFFIX}`
}

/** The LFN and format an image id stands for. */
export function parseImageId (id: string): { lfn: string, format: ImageFormat } {
  return id.endsWith(DICOM_SUFFIX) ? { lfn: id.slice(0, -DICOM_SUFFIX.length), format: 'dicom' } : { lfn: id, format: 'nifti' }
}

export type ImageFormat = 'nifti' | 'dicom'
const DICOM_SUFFIX = '~dicom'

export function isImageFormat (value: unknown): value is ImageFormat {
  return value === 'nifti' || value === 'dicom'
}

/** Frames objects: yields the magic, then each object's length and bytes. */
export async function * bundleObjects (objects: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield BUNDLE_MAGIC
  for await (const object of objects) {
    if (object.byteLength > MAX_BUNDLE_OBJECT_BYTES) throw new BundleFormatError(`an object of ${object.byteLength} bytes is over the limit`)
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(0, object.byteLength, false)
    yield length
    yield object
  }
}

/**
 * Unframes a bundle fed in arbitrary pieces; `push` returns the objects
 * completed so far, `end` checks that nothing was cut off.
 */
export class BundleReader {
  private readonly maxObjectBytes: number
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private magicSeen = false
  private want: number | undefined
  count = 0

  constructor (maxObjectBytes = MAX_BUNDLE_OBJECT_BYTES) {
    this.maxObjectBytes = maxObjectBytes
  }

  push (piece: Uint8Array): Uint8Array[] {
    this.pending.push(piece)
    this.pendingBytes += piece.byteLength
    const out: Uint8Array[] = []
    for (;;) {
      if (!this.magicSeen) {
        if (this.pendingBytes < BUNDLE_MAGIC.byteLength) return out
        const head = this.take(BUNDLE_MAGIC.byteLength)
        if (!head.every((b, i) => b === BUNDLE_MAGIC[i])) throw new BundleFormatError('not a DICOM bundle')
        this.magicSeen = true
      }
      if (this.want === undefined) {
        if (this.pendingBytes < 4) return out
        const length = new DataView(this.take(4).buffer).getUint32(0, false)
        if (length > this.maxObjectBytes) throw new BundleFormatError(`an object of ${length} bytes is over the limit`)
        this.want = length
      }
      if (this.pendingBytes < this.want) return out
      out.push(this.take(this.want))
      this.want = undefined
      this.count++
    }
  }

  /** Throws if the bundle ended in the middle of an object (or before its magic). */
  end (): void {
    if (!this.magicSeen || this.want !== undefined || this.pendingBytes > 0) throw new BundleFormatError('the bundle is truncated')
  }

  private take (n: number): Uint8Array {
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const head = this.pending[0] as Uint8Array
      const used = Math.min(head.byteLength, n - filled)
      out.set(head.subarray(0, used), filled)
      filled += used
      if (used === head.byteLength) this.pending.shift()
      else this.pending[0] = head.subarray(used)
    }
    this.pendingBytes -= n
    return out
  }
}
