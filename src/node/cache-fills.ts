/**
 * The byte budget of the slices fetched from the hospital PACS (cache fills,
 * paper §4.4 "file caching"). A series registered from the PACS keeps its
 * fetched files while the fills of every such series stay under the budget;
 * beyond it, the least recently used series that no preparation is reading
 * goes back to virtual: its files are removed, its registry records stay,
 * and the next preparation fetches it again. Instances received by C-STORE
 * are the hospital's own masters: never counted, never removed.
 *
 * The order of use survives a restart: each use writes the series' time of
 * use (an unsynced put, one per preparation: only an ordering hint, so a
 * crash at worst forgets the last few). At start-up the fills on disk are
 * ordered by it, those never recorded first.
 */
import type { Logger } from '@libp2p/interface'
import type { StandaloneEdge } from '../dicom/standalone.js'
import type { Registry } from '../registry/index.js'

/** Where the time of each series' last use is kept (ms since the epoch, by LFN). */
export interface UseTimes {
  /** Every recorded time, read once at start-up. */
  all: () => Promise<Map<string, number>>
  put: (lfn: string, at: number) => Promise<void>
  del: (lfn: string) => Promise<void>
}

export interface CacheFillsInit {
  registry: Registry
  /** Removes a slice file (relative to the slice store). */
  remove: (file: string) => Promise<void>
  maxBytes: number
  log: Logger
  /** Persists the order of use across restarts (without: kept in memory only). */
  useTimes?: UseTimes
  now?: () => number
}

export interface CacheFillStats {
  bytes: number
  maxBytes: number
  series: number
  evicted: number
}

export class CacheFills {
  /** Bytes of fetched files per series, least recently used first. */
  private readonly used = new Map<string, number>()
  /** Series being read (a preparation between `ensure` and its end). */
  private readonly pins = new Map<string, number>()
  private total = 0
  private evicted = 0
  private enforcing: Promise<void> = Promise.resolve()
  /** The series whose files are being removed now, if any. */
  private evicting: string | undefined

  constructor (private readonly init: CacheFillsInit) {}

  /** Counts the fills already on disk, least recently used first, then enforces the budget. */
  async open (): Promise<void> {
    const times = await this.init.useTimes?.all().catch(() => undefined)
    const fills: Array<{ lfn: string, bytes: number, at: number }> = []
    for (const s of await this.init.registry.list()) {
      if (s.origin === 'pacs' && s.bytes > 0) fills.push({ lfn: s.lfn, bytes: s.bytes, at: times?.get(s.lfn) ?? -1 })
    }
    // Stable: series never recorded keep the registry's order, ahead of the rest.
    fills.sort((x, y) => x.at - y.at)
    for (const f of fills) this.account(f.lfn, f.bytes)
    await this.enforce()
  }

  /**
   * A preparation starts reading `lfn`: it is not evicted until `unpin`. If
   * its files are being removed right now, resolves once that stops (the
   * pin stops it), so that what the caller then reads of the registry is
   * what is on disk.
   */
  async pin (lfn: string): Promise<void> {
    this.pins.set(lfn, (this.pins.get(lfn) ?? 0) + 1)
    if (this.evicting === lfn) await this.enforcing
  }

  /** The preparation is done with `lfn`; the budget is enforced again. */
  unpin (lfn: string): void {
    const n = this.pins.get(lfn) ?? 0
    if (n <= 1) this.pins.delete(lfn)
    else this.pins.set(lfn, n - 1)
    this.enforce().catch(() => {})
  }

  /**
   * `lfn` was just used (and perhaps filled): most recently used now, its
   * bytes as the registry counts them. The budget is enforced in the
   * background: a preparation does not wait for older series to be removed.
   */
  async touch (lfn: string): Promise<void> {
    const s = await this.init.registry.get(lfn)
    if (s?.origin !== 'pacs') return
    this.account(lfn, s.bytes)
    this.init.useTimes?.put(lfn, (this.init.now ?? Date.now)()).catch(() => {})
    this.enforce().catch((err: unknown) => { this.init.log.error('keeping the PACS slices within budget failed: %s', (err as Error).name) })
  }

  /** Some of `lfn`'s files were removed (a failed preparation taking back what it fetched): its bytes again, its place kept. */
  async recount (lfn: string): Promise<void> {
    const before = this.used.get(lfn)
    if (before === undefined) return
    const bytes = (await this.init.registry.get(lfn))?.bytes ?? 0
    this.total += bytes - before
    if (bytes > 0) this.used.set(lfn, bytes)
    else this.used.delete(lfn)
  }

  stats (): CacheFillStats {
    return { bytes: this.total, maxBytes: this.init.maxBytes, series: this.used.size, evicted: this.evicted }
  }

  /** Resolves once the fills are within the budget, or every series over it is being read. */
  async enforce (): Promise<void> {
    const run = this.enforcing.then(async () => { await this.evictOverBudget() })
    this.enforcing = run.catch(() => {})
    await run
  }

  private account (lfn: string, bytes: number): void {
    this.total -= this.used.get(lfn) ?? 0
    this.used.delete(lfn)
    if (bytes > 0) {
      this.used.set(lfn, bytes)
      this.total += bytes
    }
  }

  private async evictOverBudget (): Promise<void> {
    while (this.total > this.init.maxBytes) {
      const victim = [...this.used.keys()].find(lfn => !this.pins.has(lfn))
      if (victim === undefined) return
      this.evicting = victim
      try {
        for (const i of await this.init.registry.instances(victim)) {
          // A pin taken meanwhile (a preparation starting) stops the eviction; what is gone is fetched again.
          if (this.pins.has(victim)) break
          if (i.file === undefined) continue
          await this.init.registry.dropFile(victim, i.key)
          await this.init.remove(i.file)
        }
      } finally {
        this.evicting = undefined
      }
      const left = (await this.init.registry.get(victim))?.bytes ?? 0
      this.account(victim, left)
      // Stopped by a reader: the next series in line, if any.
      if (this.pins.has(victim)) continue
      if (left > 0) {
        // Files that could not be dropped: leave the series last in line rather than spin on it.
        this.init.log.error('slices of %s could not all be removed (%d bytes left)', victim, left)
        return
      }
      this.evicted++
      this.init.useTimes?.del(victim).catch(() => {})
      this.init.log('slices of %s removed to stay within %d bytes', victim, this.init.maxBytes)
    }
  }
}

/** Times of use in a LevelDB sublevel (decimal strings). */
export function levelUseTimes (db: { iterator: () => { all: () => Promise<Array<[string, string]>> }, put: (k: string, v: string) => Promise<void>, del: (k: string) => Promise<void> }): UseTimes {
  return {
    all: async () => {
      const times = new Map<string, number>()
      for (const [lfn, v] of await db.iterator().all()) {
        const at = Number(v)
        if (Number.isFinite(at)) times.set(lfn, at)
      }
      return times
    },
    put: async (lfn, at) => { await db.put(lfn, String(at)) },
    del: async (lfn) => { await db.del(lfn) }
  }
}

/** The budget of the fills of a node's DICOM edge, opened (what is on disk counted and brought within it). */
export async function openCacheFills (edge: StandaloneEdge, maxBytes: number, log: Logger, useTimes?: UseTimes): Promise<CacheFills> {
  const fills = new CacheFills({ registry: edge.registry, remove: async (file) => { await edge.store.remove(file) }, maxBytes, log, ...(useTimes === undefined ? {} : { useTimes }) })
  await fills.open()
  return fills
}
