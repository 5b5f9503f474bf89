/** Real TCP libp2p nodes carrying only the chunk service, for protocol tests. */
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { streamMuxer } from '../../src/node/libp2p.js'
import { chunkTransfer, type ChunkTransfer, type ChunkTransferInit } from '../../src/protocols/chunks/index.js'
import type { ChunkRef, ChunkSink, ChunkStore } from '../../src/protocols/chunks/types.js'
import { joined, type Pieces } from '../../src/codec/pieces.js'

export type ChunkNode = Libp2p<{ chunks: ChunkTransfer }>

export async function chunkNode (init: ChunkTransferInit): Promise<ChunkNode> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: { chunks: chunkTransfer(init) }
  })
}

export interface Payload {
  contentId: Uint8Array
  chunks: Uint8Array[]
  refs: ChunkRef[]
}

export function payload (count: number, size: number, tag = 'x'): Payload {
  const chunks = Array.from({ length: count }, () => new Uint8Array(randomBytes(size)))
  return {
    contentId: new Uint8Array(createHash('sha256').update(tag).update(String(Math.random())).digest()),
    chunks,
    refs: chunks.map((c, index) => ({ index, id: new Uint8Array(createHash('sha256').update(c).digest()) }))
  }
}

/** A store holding `p` (or some of its chunks), with optional per-read delay and tampering. */
export function memoryStore (p: Payload, opts: { only?: Set<number>, delayMs?: number, tamper?: (index: number, bytes: Uint8Array) => Uint8Array } = {}): ChunkStore & { reads: number } {
  const store = {
    reads: 0,
    has: async (cid: Uint8Array) => Buffer.compare(cid, p.contentId) === 0,
    read: async (cid: Uint8Array, index: number) => {
      store.reads++
      if (Buffer.compare(cid, p.contentId) !== 0) return undefined
      if (opts.only !== undefined && !opts.only.has(index)) return undefined
      if (opts.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, opts.delayMs))
      const bytes = p.chunks[index]
      if (bytes === undefined) return undefined
      return opts.tamper?.(index, bytes) ?? bytes
    }
  }
  return store
}

export function memorySink (): ChunkSink & { chunks: Map<number, Uint8Array> } {
  const chunks = new Map<number, Uint8Array>()
  return {
    chunks,
    has: async (i: number) => chunks.has(i),
    put: async (i: number, bytes: Pieces) => { chunks.set(i, new Uint8Array(joined(bytes))) }
  }
}

export const allow = async (): Promise<{ allow: true }> => ({ allow: true })
