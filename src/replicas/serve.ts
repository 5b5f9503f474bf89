/**
 * Serving replicas next to master copies: one ChunkStore over several (the
 * image cache first, then the replica store), and the resource descriptor
 * access control needs for a replica's content id. A replica site knows of a
 * replica only what the signed manifest says: its content id, LFN and master;
 * owner and custodian are the master's node key, as at the master
 * (src/node/data-plane.ts `resourceOf`), so file-bound certificates issued by
 * the master's custodian match at any holder.
 */
import { publicKeyFromPeerId } from '../privacy/payload/index.js'
import { openReader } from '../protocols/chunks/server.js'
import type { ChunkStore } from '../protocols/chunks/types.js'
import type { ResourceDescriptor } from '../sac/index.js'
import type { ReplicaEntry } from './store.js'

/** The first store that has the content id serves it. */
export function unionChunkStore (stores: readonly ChunkStore[]): ChunkStore {
  const owner = async (contentId: Uint8Array): Promise<ChunkStore | undefined> => {
    for (const s of stores) if (await s.has(contentId)) return s
    return undefined
  }
  return {
    has: async (contentId) => (await owner(contentId)) !== undefined,
    read: async (contentId, index) => await (await owner(contentId))?.read(contentId, index),
    open: async (contentId) => {
      for (const s of stores) {
        const reader = await openReader(s, contentId)
        if (reader !== undefined) return reader
      }
      return undefined
    }
  }
}

/** What access control checks a reader's chunk request for a replica against. */
export function replicaResource (entry: ReplicaEntry): ResourceDescriptor {
  const key = publicKeyFromPeerId(entry.master)
  return { owner: key, custodian: key, contentId: entry.contentId, lfn: entry.lfn }
}
