/**
 * Layer 3, slice files (paper §4.4, "file caching"): DICOM files fetched
 * from the PACS, keyed by SOP Instance UID, so a later assembly of the same
 * series (or of an overlapping one) skips the C-GET of slices already here.
 * The UID is never logged nor used as a file name (PS3.15 Annex E counts UIDs
 * among the attributes a de-identifier replaces).
 */
import type { Readable } from 'node:stream'
import type { ComponentLogger } from '@libp2p/interface'
import { MAX_UID_LENGTH } from './constants.js'
import { CacheKeyError } from './errors.js'
import { ByteStore } from './store.js'
import type { ByteSource, CacheLevel, JsonValue, StoreStats } from './types.js'

export interface SliceCacheInit {
  directory: string
  level: CacheLevel
  logger: ComponentLogger
  limits: { maxBytes: number, maxEntryBytes?: number }
}

/** A cached slice, pinned until `release()`. */
export interface SliceLease {
  readonly uid: string
  readonly path: string
  readonly size: number
  readonly meta: JsonValue | undefined
  release: () => void
}

/**
 * PS3.5 §9.1: digit components separated by dots, at most 64 characters.
 * Leading zeros in a component are tolerated: some archives emit them.
 */
const UID = /^\d+(\.\d+)*$/

export function checkUid (uid: unknown): string {
  if (typeof uid !== 'string' || uid.length > MAX_UID_LENGTH || !UID.test(uid)) {
    throw new CacheKeyError('sopInstanceUid', `must be dot-separated digits, at most ${MAX_UID_LENGTH} characters`)
  }
  return uid
}

export class SliceCache {
  readonly store: ByteStore

  constructor (init: SliceCacheInit) {
    this.store = new ByteStore({ name: 'slices', directory: init.directory, level: init.level, logger: init.logger, limits: { ...init.limits, inlineThreshold: 0 } })
  }

  async open (): Promise<void> {
    await this.store.open()
  }

  async close (): Promise<void> {
    await this.store.close()
  }

  /** Caches one DICOM file (bytes, a stream, or a file to move in); `meta` e.g. `{ lfn }`. */
  async put (uid: string, source: ByteSource, options: { meta?: JsonValue, signal?: AbortSignal } = {}): Promise<void> {
    await this.store.put(checkUid(uid), source, options)
  }

  async get (uid: string): Promise<SliceLease | undefined> {
    const lease = await this.store.get(checkUid(uid))
    if (lease === undefined) return undefined
    if (lease.kind !== 'file') {
      lease.release()
      return undefined
    }
    return { uid, path: lease.path, size: lease.size, meta: lease.meta, release: lease.release }
  }

  async createReadStream (uid: string): Promise<Readable | undefined> {
    return await this.store.createReadStream(checkUid(uid))
  }

  has (uid: string): boolean {
    return this.store.has(checkUid(uid))
  }

  /** The UIDs of `uids` not cached: what the getImage flow must still fetch from the PACS. */
  missing (uids: readonly string[]): string[] {
    return uids.filter(uid => !this.has(uid))
  }

  async delete (uids: string | readonly string[]): Promise<number> {
    const list = typeof uids === 'string' ? [uids] : uids
    return await this.store.delete(list.map(uid => checkUid(uid)))
  }

  stats (): StoreStats {
    return this.store.stats()
  }
}
