/** Types shared by the byte store and the three cache layers. */
import type { ComponentLogger } from '@libp2p/interface'
import type { AbstractLevel } from 'abstract-level'

/**
 * A LevelDB database or sublevel the cache may own keys in (string keys; the
 * store makes its own sublevels with their own value encodings).
 */
export type CacheLevel = AbstractLevel<any, string, any>

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** A file already on disk: moved in (renamed, or copied then removed across file systems) or copied. */
export interface FileSource {
  path: string
  /** Default `true`: the file becomes the entry and disappears from `path` once committed. */
  move?: boolean
}

/** Bytes to store: in memory, streamed (never held whole), or a file to move in. */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | FileSource

/** One file of a directory entry (an image's chunks and manifest). */
export interface DirectoryFile {
  name: string
  source: ByteSource
}

export interface StoreLimits {
  /** Byte budget: committed entries never add up to more. */
  maxBytes: number
  /** Largest single entry; default and ceiling: `maxBytes`. */
  maxEntryBytes?: number
  /** Entries up to this many bytes live in LevelDB instead of a file; default 0 (never). */
  inlineThreshold?: number
}

/** What a store needs, and nothing more (no node, no libp2p). */
export interface StoreInit {
  /** Scratch directory the store owns: created if missing, swept of orphans at `open()`. */
  directory: string
  /** Database or sublevel for the index; the store makes sublevels under it. */
  level: CacheLevel
  logger: ComponentLogger
  limits: StoreLimits
  /** Short name for logs and errors (`results`, `images`, `slices`). */
  name?: string
}

export interface StorePutOptions {
  /** JSON kept with the index record and returned with every lease (bounded, see MAX_META_BYTES). */
  meta?: JsonValue
  /** The entry is a miss, and is dropped, this long after its commit. */
  ttlMs?: number
  /** Keys removed in the same atomic index batch as this put (a new version dropping the old). */
  alsoDelete?: readonly string[]
  signal?: AbortSignal
}

export interface EntryInfo {
  readonly key: string
  readonly kind: 'inline' | 'file' | 'dir'
  readonly size: number
  readonly meta: JsonValue | undefined
  /** Wall-clock commit time, ms since the epoch. */
  readonly created: number
}

/** An inline entry: its bytes were read out of the index; nothing to release. */
export interface InlineLease extends EntryInfo {
  readonly kind: 'inline'
  readonly data: Uint8Array
  release: () => void
}

/** A file entry, pinned: not evicted nor removed from disk until `release()`. */
export interface FileLease extends EntryInfo {
  readonly kind: 'file'
  readonly path: string
  release: () => void
}

/** A directory entry, pinned like a file entry; `files` lists its names and sizes. */
export interface DirectoryLease extends EntryInfo {
  readonly kind: 'dir'
  readonly path: string
  readonly files: ReadonlyArray<readonly [name: string, size: number]>
  release: () => void
}

export type CacheLease = InlineLease | FileLease | DirectoryLease

/** Counters since `open()`, and the current occupancy. */
export interface StoreStats {
  hits: number
  misses: number
  evictions: number
  expirations: number
  puts: number
  deletes: number
  /** Bytes of committed entries, plus replaced entries still leased. Never above `maxBytes`. */
  bytes: number
  entries: number
  maxBytes: number
  /** Entries currently leased. */
  pinned: number
}
