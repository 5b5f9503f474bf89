/**
 * The store's three sublevels and its one way of changing them: an atomic
 * batch written with `sync` (LevelDB fsyncs its log before answering), so a
 * commit the caller saw succeed survives a crash or power loss.
 */
import type { AbstractSublevel } from 'abstract-level'
import type { EntryRecord } from './records.js'
import type { CacheLevel } from './types.js'

export interface StoreTables {
  root: CacheLevel
  /** key → EntryRecord */
  entries: AbstractSublevel<CacheLevel, any, string, EntryRecord>
  /** key → last-access sequence number (a logical clock: the LRU order) */
  atime: AbstractSublevel<CacheLevel, any, string, number>
  /** key → bytes of an inline entry */
  blobs: AbstractSublevel<CacheLevel, any, string, Uint8Array>
}

export function makeTables (root: CacheLevel): StoreTables {
  return {
    root,
    entries: root.sublevel<string, EntryRecord>('entries', { valueEncoding: 'json' }),
    atime: root.sublevel<string, number>('atime', { valueEncoding: 'json' }),
    blobs: root.sublevel<string, Uint8Array>('blobs', { valueEncoding: 'view' })
  }
}

export interface PutEntry { key: string, record: EntryRecord, seq: number, blob?: Uint8Array }

/** Removes `dels` and writes `puts` in one synced batch: all or nothing. */
export async function commitBatch (tables: StoreTables, puts: readonly PutEntry[], dels: readonly string[]): Promise<void> {
  const batch = tables.root.batch()
  for (const key of dels) {
    batch.del(key, { sublevel: tables.entries })
    batch.del(key, { sublevel: tables.atime })
    batch.del(key, { sublevel: tables.blobs })
  }
  for (const put of puts) {
    batch.put(put.key, put.record, { sublevel: tables.entries })
    batch.put(put.key, put.seq, { sublevel: tables.atime })
    if (put.blob !== undefined) batch.put(put.key, put.blob, { sublevel: tables.blobs })
  }
  // `sync` is classic-level's WriteOptions (LevelDB `WriteOptions::sync`); abstract-level passes it through.
  const options: Record<string, unknown> = { sync: true }
  await batch.write(options)
}
