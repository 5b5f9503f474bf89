/**
 * Images just sealed, served from memory while their preparation commits
 * them to the image cache. A preparation that answers its requester early
 * (`PrepareOptions.early`) holds its sealed chunks here from the moment the
 * manifest is signed and the data key stored until its commit has finished
 * (or failed, when they go at once): the requester's chunk requests are
 * served from these buffers, never from files still being written.
 *
 * Byte-bounded: an image that does not fit the budget is not held, and its
 * preparation answers only once committed, as without `early`.
 */
import type { ChunkReader } from '../protocols/chunks/types.js'

export interface HotImage {
  lfn: string
  version: number
  /** Sealed chunks by index. */
  chunks: readonly Uint8Array[]
}

/** Sealed bytes held at once, all preparations together (8 preparations of 32 MiB). */
export const DEFAULT_HOT_IMAGE_BYTES = 256 * 1024 * 1024

export class HotImages {
  private readonly images = new Map<string, HotImage & { bytes: number }>()
  private held = 0

  constructor (private readonly budgetBytes = DEFAULT_HOT_IMAGE_BYTES) {}

  /** Bytes held now. */
  get heldBytes (): number { return this.held }

  /** Whether an image of `bytes` would fit now. */
  fits (bytes: number): boolean {
    return this.held + bytes <= this.budgetBytes
  }

  /** Holds an image under its content id (hex); false if it does not fit or the id is taken. */
  add (contentIdHex: string, image: HotImage): boolean {
    const bytes = image.chunks.reduce((n, c) => n + c.byteLength, 0)
    if (this.images.has(contentIdHex) || !this.fits(bytes)) return false
    this.images.set(contentIdHex, { ...image, chunks: [...image.chunks], bytes })
    this.held += bytes
    return true
  }

  /** Lets go of an image (idempotent); readers already open keep their chunks. */
  remove (contentIdHex: string): void {
    const image = this.images.get(contentIdHex)
    if (image === undefined) return
    this.images.delete(contentIdHex)
    this.held -= image.bytes
  }

  /** The `lfn@version` a content id names, if held. */
  entry (contentIdHex: string): { lfn: string, version: number } | undefined {
    const image = this.images.get(contentIdHex)
    return image === undefined ? undefined : { lfn: image.lfn, version: image.version }
  }

  /** A chunk reader over a held image, for the chunk protocol. */
  reader (contentIdHex: string): ChunkReader | undefined {
    const image = this.images.get(contentIdHex)
    if (image === undefined) return undefined
    const { chunks } = image
    return {
      read: async (index) => Number.isSafeInteger(index) ? chunks[index] : undefined,
      close: () => {}
    }
  }
}
