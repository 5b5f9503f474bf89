/**
 * Recency order and exact byte accounting of one store. Pure: no I/O, so the
 * eviction rule can be tested exhaustively.
 *
 * A `Map` keeps insertion order; touching an entry re-inserts it, so the first
 * entry is always the least recently used. Bytes are counted here and only here:
 * `bytes = live entries + retired entries` (replaced or removed while leased,
 * their files still on disk until the last lease is released).
 */

export interface LedgerEntry {
  readonly key: string
  readonly size: number
  /** Open leases; a pinned entry is never chosen for eviction. */
  pins: number
  /** Chosen for removal by a commit in progress: reads see a miss. */
  doomed: boolean
}

export class LruLedger<E extends LedgerEntry> {
  readonly maxBytes: number
  readonly #entries = new Map<string, E>()
  #live = 0
  #retired = 0

  constructor (maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Bytes on disk that count against the budget. */
  get bytes (): number {
    return this.#live + this.#retired
  }

  get size (): number {
    return this.#entries.size
  }

  get (key: string): E | undefined {
    return this.#entries.get(key)
  }

  /** Marks `key` most recently used. */
  touch (key: string): E | undefined {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, entry)
    }
    return entry
  }

  /** Adds `entry` as the most recently used; the caller has removed any previous entry of its key. */
  add (entry: E): void {
    if (this.#entries.has(entry.key)) throw new Error(`ledger already holds ${entry.key}`)
    this.#entries.set(entry.key, entry)
    this.#live += entry.size
  }

  /**
   * Removes `entry` (if it is still the one under its key). A pinned entry's
   * bytes stay counted as retired until `unretire` is called on its release.
   */
  remove (entry: E): void {
    if (this.#entries.get(entry.key) !== entry) return
    this.#entries.delete(entry.key)
    this.#live -= entry.size
    if (entry.pins > 0) this.#retired += entry.size
  }

  /** The last lease of a removed entry was released and its file deleted. */
  unretire (size: number): void {
    this.#retired -= size
  }

  /**
   * Entries to evict, least recently used first, so that an entry of
   * `incoming` bytes fits once `removing` (entries the commit drops anyway)
   * are gone. `undefined` when pinned entries make it impossible.
   */
  plan (incoming: number, removing: readonly E[]): E[] | undefined {
    let freed = 0
    const skip = new Set<E>(removing)
    for (const entry of removing) {
      if (entry.pins === 0 && this.#entries.get(entry.key) === entry) freed += entry.size
    }
    const victims: E[] = []
    let excess = this.bytes - freed + incoming - this.maxBytes
    for (const entry of this.#entries.values()) {
      if (excess <= 0) break
      if (entry.pins > 0 || entry.doomed || skip.has(entry)) continue
      victims.push(entry)
      excess -= entry.size
    }
    return excess <= 0 ? victims : undefined
  }

  /** Entries, least recently used first. */
  values (): IterableIterator<E> {
    return this.#entries.values()
  }
}
