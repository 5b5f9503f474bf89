/**
 * Copies of images fetched from other hospitals, written to the node's cache
 * of copies in the background (see getImage): sealed chunks and the signed
 * manifest, ciphertext only, under `id@version`, so that the next getImage
 * here reads them instead of the network. The master is still asked every
 * time: access, audit, the key, and whether this is still its current
 * content. A failure is logged, never thrown: a copy is only an optimisation.
 */
import type { Logger } from '@libp2p/interface'
import type { ImageCache, ImageChunk } from '../cache/index.js'

export class CopyWriter {
  /** Copies being written (`settled` waits for them). */
  private readonly writing = new Set<Promise<void>>()

  constructor (private readonly copies: ImageCache, private readonly log: Logger) {}

  /** Writes one copy; tracked from the moment of the call, so `settled` right after waits for it. */
  async keep (id: string, version: number, manifest: Uint8Array, chunks: ImageChunk[]): Promise<void> {
    const work = this.copies.put(id, version, { manifest, chunks }).catch((err: unknown) => {
      this.log('keeping a copy of %s v%d failed: %s', id, version, (err as Error).name)
    })
    this.writing.add(work)
    try {
      await work
    } finally {
      this.writing.delete(work)
    }
  }

  /** Resolves once every copy being written is written or given up. */
  async settled (): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing])
  }
}
