/**
 * A byte-bounded store of entries on scratch space, indexed in LevelDB, with
 * LRU eviction. Each of the node's three cache layers is one of these.
 *
 * Commit protocol (crash-safe at every step):
 * 1. the bytes are spooled to `.tmp-*` in the store's directory and fsynced;
 * 2. under the store's lock, victims are chosen so the budget holds;
 * 3. the temp file is renamed to its final name and the directory fsynced;
 * 4. one synced LevelDB batch deletes the victims' (and replaced) records and
 *    writes the new one: this is the commit point;
 * 5. the victims' files are deleted.
 * A crash before 4 leaves only files no record names, which `open()` deletes;
 * a crash after 4 leaves the same for step 5. A record whose file is gone is
 * dropped at `open()`.
 */
import { randomBytes } from 'node:crypto'
import { rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { Logger } from '@libp2p/interface'
import { TEMP_PREFIX } from './constants.js'
import { CacheClosedError, CacheEntryTooLargeError, CacheFullError } from './errors.js'
import { LruLedger } from './ledger.js'
import { Mutex } from './mutex.js'
import { readLease, streamLease } from './reading.js'
import {
  checkFileNames, checkKey, checkLimits, checkPutOptions, entryInfo, isExpired, newRecord, storeEntry, type PutPlan, type StoreEntry
} from './records.js'
import { recover } from './recover.js'
import { OverLimit, fsyncDirectory, spoolDirectory, spoolEntry, type Pending } from './spool.js'
import { commitBatch, makeTables, type StoreTables } from './tables.js'
import type { ByteSource, CacheLease, DirectoryFile, EntryInfo, StoreInit, StorePutOptions, StoreStats } from './types.js'

const nothing = async (): Promise<void> => {}

export class ByteStore {
  readonly name: string
  readonly directory: string
  readonly maxBytes: number
  readonly maxEntryBytes: number
  readonly inlineThreshold: number
  readonly #tables: StoreTables
  readonly #log: Logger
  readonly #mutex = new Mutex()
  readonly #inflight = new Set<Promise<unknown>>()
  #ledger: LruLedger<StoreEntry>
  #state: 'new' | 'open' | 'closing' | 'closed' = 'new'
  #opening: Promise<void> | undefined
  #clock = 0
  #pinned = 0
  #counters = { hits: 0, misses: 0, evictions: 0, expirations: 0, puts: 0, deletes: 0 }

  constructor (init: StoreInit) {
    const { maxBytes, maxEntryBytes, inlineThreshold } = checkLimits(init.limits)
    this.name = init.name ?? 'store'
    this.directory = init.directory
    this.maxBytes = maxBytes
    this.maxEntryBytes = Math.min(maxEntryBytes ?? maxBytes, maxBytes)
    this.inlineThreshold = inlineThreshold ?? 0
    this.#tables = makeTables(init.level)
    this.#log = init.logger.forComponent(`dm2:cache:${this.name}`)
    this.#ledger = new LruLedger(maxBytes)
  }

  /** Recovers the index and directory (see `recover.ts`) and starts serving. */
  async open (): Promise<void> {
    if (this.#state === 'open') return
    if (this.#state === 'closing') throw new CacheClosedError(this.name)
    this.#opening ??= this.#open().finally(() => { this.#opening = undefined })
    await this.#opening
  }

  async #open (): Promise<void> {
    const found = await recover(this.directory, this.#tables, Date.now())
    this.#ledger = new LruLedger(this.maxBytes)
    for (const { key, record, seq } of found.records) this.#ledger.add(storeEntry(key, record, seq))
    this.#clock = found.clock
    this.#pinned = 0
    this.#counters = { hits: 0, misses: 0, evictions: 0, expirations: 0, puts: 0, deletes: 0 }
    this.#state = 'open'
    // The budget may have shrunk since the last run.
    await this.#mutex.run(async () => {
      const victims = this.#ledger.plan(0, []) ?? []
      if (victims.length > 0) await this.#remove(victims, 'evictions')
    })
    this.#log('opened: %d entries, %d bytes (%d dropped, %d expired, %d orphans swept)',
      this.#ledger.size, this.#ledger.bytes, found.dropped, found.expired, found.swept)
  }

  /** Waits for operations in progress, then refuses new ones. Leases stay valid (their files stay). */
  async close (): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
    await this.#mutex.run(nothing)
    this.#state = 'closed'
  }

  /** Stores `source` under `key`, replacing any previous entry; evicts LRU entries to stay in budget. */
  async put (key: string, source: ByteSource, options: StorePutOptions = {}): Promise<void> {
    await this.#track(async () => {
      const plan = checkPutOptions(checkKey(key), options)
      const inline = this.inlineThreshold > 0 ? this.inlineThreshold : -1
      await this.#commit(key, await this.#spool(async tmp => await spoolEntry(source, tmp, this.maxEntryBytes, inline, options.signal)), plan)
    })
  }

  /** Stores several files as one directory entry (an image's chunks and manifest), all or nothing. */
  async putDirectory (key: string, files: readonly DirectoryFile[], options: StorePutOptions = {}): Promise<void> {
    await this.#track(async () => {
      const plan = checkPutOptions(checkKey(key), options)
      checkFileNames(files.map(f => f.name))
      await this.#commit(key, await this.#spool(async tmp => await spoolDirectory(files, tmp, this.maxEntryBytes, options.signal)), plan)
    })
  }

  /**
   * The entry under `key`, marked most recently used, or `undefined` (a miss).
   * A file or directory entry is pinned until `release()`: never evicted nor
   * deleted from disk before, so its `path` can be read at leisure.
   */
  async get (key: string): Promise<CacheLease | undefined> {
    return await this.#track(async () => {
      const found = await this.#lookup(key)
      if (found === undefined) return undefined
      const { entry, release } = found
      const { record } = entry
      if (record.kind === 'file' || record.kind === 'dir') {
        const path = join(this.directory, record.name ?? '')
        if (record.kind === 'file') return { ...entryInfo(entry), kind: 'file', path, release }
        return { ...entryInfo(entry), kind: 'dir', path, files: record.files ?? [], release }
      }
      const data = await this.#tables.blobs.get(key)
      if (data === undefined) {
        // Replaced or deleted while we looked: a miss after all.
        this.#counters.hits--
        this.#counters.misses++
        return undefined
      }
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      return { ...entryInfo(entry), kind: 'inline', data: view, release }
    })
  }

  /** The whole value of an inline or file entry; for small entries (results). */
  async read (key: string): Promise<Uint8Array | undefined> {
    const lease = await this.get(key)
    return lease === undefined ? undefined : await readLease(this.name, lease)
  }

  /**
   * A stream of the entry's bytes (of `file` inside a directory entry). The
   * file is opened before this returns, so a later eviction cannot cut it short.
   */
  async createReadStream (key: string, file?: string): Promise<Readable | undefined> {
    const lease = await this.get(key)
    return lease === undefined ? undefined : await streamLease(this.name, lease, file)
  }

  /** Whether a live entry is under `key` (no LRU touch, no counters). */
  has (key: string): boolean {
    const entry = this.#ledger.get(key)
    return entry !== undefined && !entry.doomed && !isExpired(entry)
  }

  /** An entry's description without touching it. */
  info (key: string): EntryInfo | undefined {
    const entry = this.#ledger.get(key)
    return entry === undefined || entry.doomed ? undefined : entryInfo(entry)
  }

  /** Every live entry, least recently used first. */
  entries (): EntryInfo[] {
    return [...this.#ledger.values()].filter(e => !e.doomed && !isExpired(e)).map(e => entryInfo(e))
  }

  /** Deletes entries (in one synced batch); returns how many existed. */
  async delete (keys: string | readonly string[]): Promise<number> {
    const list = typeof keys === 'string' ? [keys] : keys
    return await this.#track(async () => await this.#mutex.run(async () => {
      const found = list.map(k => this.#ledger.get(k)).filter((e): e is StoreEntry => e !== undefined && !e.doomed)
      if (found.length > 0) await this.#remove(found, 'deletes')
      return found.length
    }))
  }

  async clear (): Promise<number> {
    return await this.delete([...this.#ledger.values()].map(e => e.key))
  }

  /** Counts a miss a layer answered without a lookup (no version of an LFN known, say). */
  countMiss (): void {
    this.#counters.misses++
  }

  stats (): StoreStats {
    return { ...this.#counters, bytes: this.#ledger.bytes, entries: this.#ledger.size, maxBytes: this.maxBytes, pinned: this.#pinned }
  }

  #ensureOpen (): void {
    if (this.#state !== 'open') throw new CacheClosedError(this.name)
  }

  async #track<T> (fn: () => Promise<T>): Promise<T> {
    this.#ensureOpen()
    const result = fn()
    this.#inflight.add(result)
    const forget = (): void => { this.#inflight.delete(result) }
    result.then(forget, forget)
    return await result
  }

  /** Runs a spooler on a fresh temp path, turning `OverLimit` into the typed error. */
  async #spool (fn: (tmp: string) => Promise<Pending>): Promise<Pending> {
    try {
      return await fn(join(this.directory, TEMP_PREFIX + randomBytes(12).toString('hex')))
    } catch (err) {
      if (err instanceof OverLimit) throw new CacheEntryTooLargeError(this.name, this.maxEntryBytes)
      throw err
    }
  }

  /**
   * Hit/miss accounting, the LRU touch and the pin shared by every read. The
   * pin is taken before any await, so no commit can evict the entry meanwhile.
   */
  async #lookup (key: string): Promise<{ entry: StoreEntry, release: () => void } | undefined> {
    checkKey(key)
    const entry = this.#ledger.get(key)
    if (entry === undefined || entry.doomed) {
      this.#counters.misses++
      return undefined
    }
    if (isExpired(entry)) {
      this.#counters.misses++
      await this.#mutex.run(async () => {
        if (this.#ledger.get(key) === entry && !entry.doomed) await this.#remove([entry], 'expirations')
      })
      return undefined
    }
    this.#counters.hits++
    const release = entry.record.kind === 'inline' ? () => {} : this.#pin(entry)
    this.#ledger.touch(key)
    entry.seq = ++this.#clock
    // Not synced: losing the last few touches in a crash only blurs the LRU order.
    await this.#tables.atime.put(key, entry.seq).catch((err: Error) => { this.#log.error('last-access write failed: %s', err.message) })
    return { entry, release }
  }

  #pin (entry: StoreEntry): () => void {
    if (entry.pins++ === 0) this.#pinned++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--entry.pins > 0) return
      this.#pinned--
      if (entry.removed) {
        const unlinked = this.#unlink(entry).finally(() => { this.#ledger.unretire(entry.size) })
        this.#inflight.add(unlinked)
        unlinked.then(() => this.#inflight.delete(unlinked), () => this.#inflight.delete(unlinked))
      }
    }
  }

  async #unlink (entry: StoreEntry): Promise<void> {
    if (entry.record.name === undefined) return
    await rm(join(this.directory, entry.record.name), { recursive: true, force: true })
      .catch((err: Error) => { this.#log.error('could not delete an entry file (swept at next open): %s', err.message) })
  }

  /** Drops entries from the index (one synced batch), the ledger and the disk. Caller holds the lock. */
  async #remove (entries: readonly StoreEntry[], counter: 'evictions' | 'expirations' | 'deletes'): Promise<void> {
    for (const entry of entries) entry.doomed = true
    try {
      await commitBatch(this.#tables, [], entries.map(e => e.key))
    } catch (err) {
      for (const entry of entries) entry.doomed = false
      throw err
    }
    await this.#forget(entries)
    this.#counters[counter] += entries.length
  }

  /** Takes entries out of the ledger at once; their files (unless leased) are deleted by the returned promise. */
  async #forget (entries: readonly StoreEntry[]): Promise<void> {
    for (const entry of entries) {
      this.#ledger.remove(entry)
      entry.removed = true
    }
    for (const entry of entries) if (entry.pins === 0) await this.#unlink(entry)
  }

  async #commit (key: string, pending: Pending, plan: PutPlan): Promise<void> {
    let at = pending.at
    try {
      await this.#mutex.run(async () => {
        this.#ensureCommittable()
        const removing = [key, ...plan.alsoDelete].map(k => this.#ledger.get(k)).filter((e): e is StoreEntry => e !== undefined && !e.doomed)
        const victims = this.#ledger.plan(pending.size, removing)
        if (victims === undefined) throw new CacheFullError(this.name, pending.size)
        // Doomed from now on: reads miss them, so none can be pinned behind the plan's back.
        const doomed = [...removing, ...victims]
        for (const entry of doomed) entry.doomed = true
        const record = newRecord(pending, plan, Date.now())
        const seq = ++this.#clock
        try {
          if (at !== undefined) {
            record.name = randomBytes(16).toString('hex')
            const final = join(this.directory, record.name)
            await rename(at, final)
            at = final
            await fsyncDirectory(this.directory)
          }
          await commitBatch(this.#tables, [{ key, record, seq, blob: pending.data }], [key, ...plan.alsoDelete, ...victims.map(v => v.key)])
        } catch (err) {
          for (const entry of doomed) entry.doomed = false
          throw err
        }
        at = undefined
        const unlink = this.#forget(doomed)
        this.#ledger.add(storeEntry(key, record, seq))
        await unlink
        this.#counters.puts++
        this.#counters.evictions += victims.length
        if (victims.length > 0) this.#log.trace('evicted %d entries for %d bytes', victims.length, pending.size)
      })
    } finally {
      if (at !== undefined) await pending.undo(at).catch(() => {})
    }
    await pending.finalize().catch((err: Error) => { this.#log.error('could not remove a copied-in source: %s', err.message) })
  }

  #ensureCommittable (): void {
    if (this.#state !== 'open' && this.#state !== 'closing') throw new CacheClosedError(this.name)
  }
}
