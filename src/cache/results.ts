/**
 * Layer 1, request results (paper §4.4, "request caching"): the JSON result of
 * a query, keyed by the normalized query and the requester's SAC scope,
 * dropped when a series it could depend on is registered or changed.
 *
 * The store key is the SHA-256 of `requestKey(query, scope)`: bounded in
 * length and free of query values; the dependencies (field names and query
 * values) live in the entry's metadata, in the node's own database.
 */
import { createHash } from 'node:crypto'
import { CHANGE_LOG_LENGTH, DEFAULT_RESULT_INLINE_BYTES, DEFAULT_RESULT_TTL_MS } from './constants.js'
import { affects, dependenciesOf, parseDependencies, type Dependencies, type SeriesChange } from './dependencies.js'
import { CacheInputError } from './errors.js'
import { requestKey } from './request-key.js'
import { ByteStore } from './store.js'
import type { CacheLevel, JsonValue, StoreStats } from './types.js'
import type { ComponentLogger } from '@libp2p/interface'

export interface ResultCacheInit {
  directory: string
  level: CacheLevel
  logger: ComponentLogger
  limits: {
    maxBytes: number
    /** Results up to this size are kept inside LevelDB (default DEFAULT_RESULT_INLINE_BYTES). */
    inlineThreshold?: number
    /** Default time to live of a result, ms; 0 = until invalidated or evicted. */
    ttlMs?: number
  }
}

export interface ResultPutOptions {
  /** What the result depends on; derived from the query by `dependenciesOf` when absent. */
  dependencies?: Dependencies
  ttlMs?: number
  /**
   * `epoch()` read before the query was run. If a change that could affect
   * this result was invalidated since, the result is stale: it is not stored.
   */
  epoch?: number
  signal?: AbortSignal
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ResultCache {
  readonly store: ByteStore
  readonly #ttlMs: number
  /** Invalidations counted since open; the recent ones are remembered for `put(…, { epoch })`. */
  #epoch = 0
  #changes: Array<{ epoch: number, change: SeriesChange }> = []

  constructor (init: ResultCacheInit) {
    this.store = new ByteStore({
      name: 'results',
      directory: init.directory,
      level: init.level,
      logger: init.logger,
      limits: { maxBytes: init.limits.maxBytes, inlineThreshold: init.limits.inlineThreshold ?? DEFAULT_RESULT_INLINE_BYTES }
    })
    this.#ttlMs = init.limits.ttlMs ?? DEFAULT_RESULT_TTL_MS
  }

  async open (): Promise<void> {
    await this.store.open()
  }

  async close (): Promise<void> {
    await this.store.close()
  }

  /** A token to pass to `put` so results computed across an invalidation are refused. */
  epoch (): number {
    return this.#epoch
  }

  /** The cached result of `query` for `scope`, or `undefined`. */
  async get<T extends JsonValue = JsonValue> (query: unknown, scope: string): Promise<T | undefined> {
    const key = keyOf(query, scope)
    const bytes = await this.store.read(key)
    if (bytes === undefined) return undefined
    try {
      return JSON.parse(decoder.decode(bytes)) as T
    } catch {
      // Damaged on disk: drop it and answer as a miss.
      await this.store.delete(key)
      return undefined
    }
  }

  /** Caches `result`; returns false when it was refused as stale (see `ResultPutOptions.epoch`). */
  async put (query: unknown, scope: string, result: JsonValue, options: ResultPutOptions = {}): Promise<boolean> {
    const key = keyOf(query, scope)
    const deps = options.dependencies ?? dependenciesOf(query)
    let text: string | undefined
    try {
      text = JSON.stringify(result)
    } catch {
      text = undefined
    }
    if (text === undefined) throw new CacheInputError('result', 'not JSON-serialisable')
    const since = options.epoch ?? this.#epoch
    if (this.#staleSince(since, deps)) return false
    await this.store.put(key, encoder.encode(text), {
      meta: deps as unknown as JsonValue,
      ttlMs: options.ttlMs ?? this.#ttlMs,
      signal: options.signal
    })
    // An invalidation may have run while the entry was being written, before it was listed.
    if (this.#staleSince(since, deps)) {
      await this.store.delete(key)
      return false
    }
    return true
  }

  /**
   * A series was registered or changed: drops every result whose query could
   * match it, before or after the change. Returns how many were dropped.
   */
  async invalidate (change: SeriesChange): Promise<number> {
    this.#epoch++
    this.#changes.push({ epoch: this.#epoch, change })
    if (this.#changes.length > CHANGE_LOG_LENGTH) this.#changes.shift()
    const drop = this.store.entries().filter(e => affects(parseDependencies(e.meta), change)).map(e => e.key)
    return drop.length === 0 ? 0 : await this.store.delete(drop)
  }

  /** Drops every result (e.g. after the roster or the SAC rules changed). */
  async clear (): Promise<number> {
    this.#epoch++
    this.#changes = []
    return await this.store.clear()
  }

  stats (): StoreStats {
    return this.store.stats()
  }

  #staleSince (epoch: number, deps: Dependencies): boolean {
    if (epoch === this.#epoch) return false
    const oldest = this.#changes[0]
    // Older than what we remember (or a clear happened): cannot prove freshness.
    if (epoch > this.#epoch || oldest === undefined || oldest.epoch > epoch + 1) return true
    return this.#changes.some(c => c.epoch > epoch && affects(deps, c.change))
  }
}

function keyOf (query: unknown, scope: string): string {
  return createHash('sha256').update(requestKey(query, scope)).digest('hex')
}
