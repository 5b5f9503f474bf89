/**
 * Verified-record cache: a certificate whose encoding, schema and signature
 * passed once is not checked again. Only those static facts are cached; time
 * validity, revocation and chain relations are evaluated on every request.
 *
 * Entries are found by the SHA-256 of the exact envelope bytes and hold the
 * certificate (and its id). Looking up by id alone would be wrong: the id
 * covers the signed payload, not the signature, so bytes with the same id and
 * a mangled signature must still be verified — and rejected.
 */
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { DEFAULT_CERT_CACHE_SIZE } from './constants.js'

export interface CacheStats {
  hits: number
  misses: number
  size: number
}

export class VerifiedCache {
  private readonly entries: LRUCache<string, object>
  private hits = 0
  private misses = 0

  constructor (init: { max?: number } = {}) {
    this.entries = new LRUCache<string, object>({ max: init.max ?? DEFAULT_CERT_CACHE_SIZE })
  }

  /**
   * The cached result of `verify(bytes)` for these exact bytes under `kind`,
   * or verifies now and caches on success. Failures are thrown, never cached.
   */
  getOrVerify<T extends object> (kind: string, bytes: Uint8Array, verify: (bytes: Uint8Array) => T): T {
    const key = kind + ':' + hash('sha256', bytes, 'base64')
    const hit = this.entries.get(key)
    if (hit !== undefined) {
      this.hits++
      return hit as T
    }
    this.misses++
    const value = verify(bytes)
    this.entries.set(key, value)
    return value
  }

  /** Forgets everything (tests and benches start cold). */
  clear (): void {
    this.entries.clear()
  }

  stats (): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size }
  }
}
