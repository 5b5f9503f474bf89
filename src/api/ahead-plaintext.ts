/**
 * The chunks a master sends ahead of its answer, opened as they arrive with
 * the key and the layout it sent ahead too (protocols/image/ahead.ts), so
 * that once the answer comes little is left to do but write the volume.
 *
 * Nothing here is trusted until the answer's signed manifest is: `take`
 * hands the plaintext out only if the manifest lists this very layout and,
 * at every index, a chunk whose hash is the one that was opened, and if the
 * key it was opened with is the one the requester ends up using (the
 * master's answer may supersede a key sent ahead). Otherwise the requester
 * opens the chunks the usual way (openStream), which meets and reports any
 * problem with its own typed errors. A chunk that fails to open here is
 * simply not held. `takeAhead` puts the sealed chunks the manifest lists
 * into the download, as any source's.
 */
import { byteLengthOf, joined } from '../codec/pieces.js'
import { ChunkCipher, type Manifest, type PayloadLayout } from '../privacy/payload/index.js'
import type { AheadChunk, AheadLayout } from '../protocols/image/index.js'
import { sameKey as same } from '../protocols/keys/index.js'
import type { Downloads } from './downloads.js'

interface Opened {
  sha256: Uint8Array
  plain: Uint8Array
}

export class AheadPlaintext {
  private layout?: PayloadLayout
  private dataKey?: Uint8Array
  private cipher?: ChunkCipher
  /** Chunks waiting for the key or the layout. */
  private readonly waiting = new Map<number, AheadChunk>()
  private readonly opened = new Map<number, Opened>()

  /** For the file id and version the request names (those of the key sent ahead). */
  constructor (private readonly fileId: string, private readonly version: number) {}

  /** The data key sent ahead, unwrapped. */
  key (dataKey: Uint8Array): void {
    this.dataKey ??= dataKey
    this.start()
  }

  setLayout (layout: AheadLayout): void {
    this.layout ??= { fileId: this.fileId, version: this.version, chunkSize: layout.chunkSize, totalSize: layout.totalSize, salt: layout.salt }
    this.start()
  }

  chunk (index: number, chunk: AheadChunk): void {
    if (this.cipher === undefined) this.waiting.set(index, chunk)
    else this.open(index, chunk)
  }

  /**
   * The plaintext of every chunk, in order, if each was opened with `dataKey`
   * under the manifest's layout and is the chunk the manifest lists; else
   * undefined.
   */
  take (manifest: Manifest, dataKey: Uint8Array): Uint8Array[] | undefined {
    const layout = this.layout
    if (layout === undefined || this.dataKey === undefined || !same(this.dataKey, dataKey)) return undefined
    if (manifest.fileId !== layout.fileId || manifest.version !== layout.version || manifest.chunkSize !== layout.chunkSize ||
      manifest.totalSize !== layout.totalSize || !same(manifest.salt, layout.salt)) return undefined
    const plain: Uint8Array[] = []
    for (const [index, ref] of manifest.chunks.entries()) {
      const opened = this.opened.get(index)
      if (opened === undefined || !same(opened.sha256, ref.id)) return undefined
      plain.push(opened.plain)
    }
    return plain
  }

  private start (): void {
    if (this.cipher !== undefined || this.dataKey === undefined || this.layout === undefined) return
    try {
      this.cipher = new ChunkCipher(this.dataKey, this.layout)
    } catch {
      this.waiting.clear()
      return
    }
    for (const [index, chunk] of this.waiting) this.open(index, chunk)
    this.waiting.clear()
  }

  private open (index: number, chunk: AheadChunk): void {
    const cipher = this.cipher as ChunkCipher
    if (index >= cipher.total) return
    try {
      this.opened.set(index, { sha256: chunk.sha256, plain: cipher.open(index, joined(chunk.bytes)) })
    } catch {
      // Not authentic under this key and layout: left for the usual path to meet.
    }
  }
}

/**
 * Puts the chunks the master sent ahead of its answer into `sink`, each only
 * if the manifest lists its size and hash and the sink lacks it (one that
 * does not match is left for the transfer to fetch). Returns the indexes put.
 */
export async function takeAhead (chunks: ReadonlyMap<number, AheadChunk> | undefined, manifest: Manifest, sink: Downloads, onChunk: (size: number) => void): Promise<Set<number>> {
  const put = new Set<number>()
  for (const [index, chunk] of chunks ?? []) {
    const ref = manifest.chunks[index]
    const size = byteLengthOf(chunk.bytes)
    if (ref === undefined || size !== ref.size || Buffer.compare(chunk.sha256, ref.id) !== 0 || await sink.has(index)) continue
    await sink.put(index, chunk.bytes)
    onChunk(size)
    put.add(index)
  }
  return put
}
