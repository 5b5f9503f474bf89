/**
 * The chunks this site serves over `/dm2/chunks/1.0.0`: sealed chunks of the
 * images in its image cache (as master), and of those just sealed and still
 * being committed to it (hot-images.ts) — and, through `extra`, replicas it
 * holds for others. Content ids are the manifests' Merkle roots.
 */
import { readFile } from 'node:fs/promises'
import type { ImageCache } from '../cache/images.js'
import type { ChunkReader, ChunkStore } from '../protocols/chunks/types.js'
import type { HotImages } from './hot-images.js'

export interface ContentIndexDb {
  get: (key: string) => Promise<Uint8Array | undefined>
  put: (key: string, value: Uint8Array, options?: { sync?: boolean }) => Promise<void>
  del: (key: string, options?: { sync?: boolean }) => Promise<void>
}

/** Maps content ids to `lfn@version` entries of the image cache. */
export class ContentIndex {
  private readonly db: ContentIndexDb

  constructor (db: ContentIndexDb) {
    this.db = db
  }

  /** Not synced on its own, like `DataKeys.put`: the preparation's synced commit record follows it in the same log. */
  async put (contentIdHex: string, lfn: string, version: number): Promise<void> {
    await this.db.put(contentIdHex, new TextEncoder().encode(`${lfn}@${version}`))
  }

  /** Idempotent: deleting an absent id does nothing. */
  async delete (contentIdHex: string): Promise<void> {
    await this.db.del(contentIdHex, { sync: true })
  }

  async get (contentIdHex: string): Promise<{ lfn: string, version: number } | undefined> {
    const bytes = await this.db.get(contentIdHex)
    if (bytes === undefined) return undefined
    const text = new TextDecoder().decode(bytes)
    const at = text.lastIndexOf('@')
    return { lfn: text.slice(0, at), version: Number(text.slice(at + 1)) }
  }
}

/** Images of the cache, and those still being committed to it (`hot`, served from memory). */
export function imageChunkStore (images: ImageCache, index: ContentIndex, hot?: HotImages): ChunkStore {
  const locate = async (contentId: Uint8Array): Promise<{ lfn: string, version: number } | undefined> => {
    const entry = await index.get(Buffer.from(contentId).toString('hex'))
    if (entry === undefined || !images.has(entry.lfn, entry.version)) return undefined
    return entry
  }
  const open = async (contentId: Uint8Array): Promise<ChunkReader | undefined> => {
    const held = hot?.reader(Buffer.from(contentId).toString('hex'))
    if (held !== undefined) return held
    const entry = await locate(contentId)
    if (entry === undefined) return undefined
    const lease = await images.chunks(entry.lfn, entry.version)
    if (lease === undefined) return undefined
    const names = new Set(lease.chunks.map(([name]) => name))
    let released = false
    return {
      read: async (chunk) => {
        const name = String(chunk)
        if (released || !names.has(name)) return undefined
        return new Uint8Array(await readFile(lease.chunkPath(name)))
      },
      close: () => {
        if (released) return
        released = true
        lease.release()
      }
    }
  }
  return {
    has: async (contentId) => hot?.entry(Buffer.from(contentId).toString('hex')) !== undefined || (await locate(contentId)) !== undefined,
    read: async (contentId, chunk) => {
      const reader = await open(contentId)
      try {
        return await reader?.read(chunk)
      } finally {
        reader?.close()
      }
    },
    open
  }
}
