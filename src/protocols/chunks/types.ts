/** Interfaces of the chunk protocol towards the rest of the node. */
import type { PeerId } from '@libp2p/interface'
import type { Pieces } from '../../codec/pieces.js'

/** Where a node keeps the encrypted chunks it can serve (master copies and replicas). */
export interface ChunkStore {
  /** Whether this node serves the content id at all. */
  has: (contentId: Uint8Array) => Promise<boolean>
  /** One chunk's bytes, or undefined if this node does not hold that chunk. */
  read: (contentId: Uint8Array, index: number) => Promise<Uint8Array | undefined>
  /**
   * The content opened once for a whole request (one lookup, held until
   * `close()`: not evicted meanwhile), or undefined if not served here.
   * Without it, the server calls `has` once and `read` per chunk.
   */
  open?: (contentId: Uint8Array) => Promise<ChunkReader | undefined>
}

/** One request's view of a content id (see `ChunkStore.open`). */
export interface ChunkReader {
  /** One chunk's bytes, or undefined if this node does not hold that chunk. */
  read: (index: number) => Promise<Uint8Array | undefined>
  /** Idempotent. */
  close: () => void
}

/** What the serving side passes to access control, before reading anything. */
export interface ChunkAccessRequest {
  auth: Uint8Array
  contentId: Uint8Array
  indexes: number[]
  /** Authenticated by noise. */
  remotePeer: PeerId
}

export type AccessDecision = { allow: true } | { allow: false, reason: string }

/** Access control for chunk reads; every request goes through it first. */
export type ChunkAuthorizer = (request: ChunkAccessRequest) => Promise<AccessDecision>

/** Where fetched chunks go; `has` lets a restarted fetch skip what it already holds. */
export interface ChunkSink {
  has: (index: number) => Promise<boolean>
  /**
   * A chunk whose bytes have been hashed and found to be the id asked for
   * (nothing else is ever put), in the pieces it arrived in (see
   * codec/pieces.ts: views the sink may keep, never write to).
   */
  put: (index: number, bytes: Pieces) => Promise<void>
}

export interface ChunkRef {
  index: number
  /** SHA-256 of the chunk bytes (the chunk's address). */
  id: Uint8Array
}

export type ChunkFetchEvent =
  | { type: 'chunk', index: number, bytes: number, from: PeerId }
  | { type: 'source-dropped', peer: PeerId, reason: 'corrupt' | 'stalled' | 'failed' | 'denied' | 'busy' | 'not-found' }
