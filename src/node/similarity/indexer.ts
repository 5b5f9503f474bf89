/**
 * Computing features at ingest: a series' slices → assembled volume
 * (src/assembly) → features (src/similarity) → the feature index. One
 * series at a time, in the background, so ingest and image preparation
 * never wait for it; a series asked for twice while queued is done once.
 *
 * When: a series registered with its slices on disk (the registry's
 * `onRegistered`); a series registered virtually (slices still at the PACS)
 * once its image is first prepared, the slices then being here; any series
 * on demand (`dm2 features index`, fetching slices from the PACS); and at
 * start-up, every registered series not indexed at its current version.
 */
import { readFile } from 'node:fs/promises'
import type { Logger } from '@libp2p/interface'
import { assembleVolume, type SliceSource } from '../../assembly/index.js'
import type { SeriesCatalog, SliceProvider } from '../../imaging/types.js'
import { extractFeatures, type ExtractOptions } from '../../similarity/index.js'
import { waitForQuiet } from '../quiet.js'
import type { FeatureIndex } from './feature-index.js'

/**
 * indexed: features stored for the current version; current: already were;
 * virtual: slices not on disk and fetching not asked; unknown: not a series
 * of this site (any old entry is dropped); failed: see `reason` (logged).
 */
export type IndexStatus = 'indexed' | 'current' | 'virtual' | 'unknown' | 'failed'

export interface IndexOutcome {
  lfn: string
  status: IndexStatus
  version?: number
  /** Error name (never patient data). */
  reason?: string
}

export interface IndexerInit {
  index: FeatureIndex
  catalog: SeriesCatalog
  slices: SliceProvider
  /** True when every slice of the series is on local disk; absent: assume so. */
  slicesOnDisk?: (lfn: string) => Promise<boolean>
  /** The LFNs registered here, for the start-up catch-up; absent: none. */
  registered?: () => Promise<string[]>
  extract?: ExtractOptions
  log: Logger
  /**
   * True while the node is busy serving images: background jobs wait for a
   * quiet moment (`quietMs` without being busy, at most `maxDeferMs` in all),
   * so that indexing never competes with getImage for the CPU. On-demand
   * jobs (`fetch`) do not wait.
   */
  busy?: () => boolean
  maxDeferMs?: number
  /** How long `busy()` must have stayed false before a background job starts (default QUIET_MS). */
  quietMs?: number
}

/** How often a deferred job looks whether the node is quiet again, and how long it defers at most. */
const QUIET_POLL_MS = 100
const DEFAULT_MAX_DEFER_MS = 120_000
/**
 * A burst of requests has gaps between its images (a requester fetching
 * chunks, asking for the key, decrypting): a job waits for this much quiet
 * in a row, so that it does not start in such a gap and slow the next image.
 */
const QUIET_MS = 1_000

function sources (files: Array<{ name: string, path: string }>): SliceSource[] {
  return files.map(f => ({ name: f.name, read: async () => new Uint8Array(await readFile(f.path)) }))
}

export class FeatureIndexer {
  private readonly init: IndexerInit
  private readonly controller = new AbortController()
  private readonly queued = new Map<string, Promise<IndexOutcome>>()
  private tail: Promise<unknown> = Promise.resolve()

  constructor (init: IndexerInit) {
    this.init = init
  }

  /**
   * Indexes `lfn` after the jobs queued before it. With `fetch`, slices not
   * on disk are brought from the PACS; without, such a series waits
   * (status `virtual`). Never rejects: failures are outcomes.
   */
  async enqueue (lfn: string, options: { fetch?: boolean } = {}): Promise<IndexOutcome> {
    const fetch = options.fetch ?? false
    const key = `${fetch ? 'f' : 'l'}:${lfn}`
    const pending = this.queued.get(key)
    if (pending !== undefined) return await pending
    const run = this.tail.then(async () => await this.indexOne(lfn, fetch))
      .finally(() => { this.queued.delete(key) })
    this.queued.set(key, run)
    this.tail = run.catch(() => {})
    return await run
  }

  /** Resolves once every job queued so far has finished. */
  async idle (): Promise<void> {
    while (this.queued.size > 0) await Promise.allSettled([...this.queued.values()])
  }

  /**
   * Start-up catch-up: queues every registered series (those already
   * current cost a lookup) and drops entries of series no longer here.
   * Returns the outcomes once all are done.
   */
  async reconcile (): Promise<IndexOutcome[]> {
    const lfns = new Set(await this.init.registered?.() ?? [])
    for (const lfn of this.init.index.lfns()) lfns.add(lfn)
    return await Promise.all([...lfns].map(async lfn => await this.enqueue(lfn)))
  }

  /** Stops: the running job is aborted, queued ones end as `failed` (AbortError). */
  async close (): Promise<void> {
    this.controller.abort()
    await this.idle()
  }

  private async whenQuiet (signal: AbortSignal): Promise<void> {
    const busy = this.init.busy
    if (busy === undefined) return
    await waitForQuiet({
      busy,
      quietMs: this.init.quietMs ?? QUIET_MS,
      until: Date.now() + (this.init.maxDeferMs ?? DEFAULT_MAX_DEFER_MS),
      pollMs: QUIET_POLL_MS,
      // An on-demand job waits behind this one: it runs now rather than keep it waiting.
      enough: () => [...this.queued.keys()].some(k => k.startsWith('f:')),
      signal
    })
  }

  private async indexOne (lfn: string, fetch: boolean): Promise<IndexOutcome> {
    const { index, catalog, log } = this.init
    const signal = this.controller.signal
    try {
      signal.throwIfAborted()
      if (!fetch) await this.whenQuiet(signal)
      const info = await catalog.describe(lfn)
      if (info === undefined) {
        if (index.version(lfn) !== undefined) await index.delete(lfn)
        return { lfn, status: 'unknown' }
      }
      const { version } = info
      if (index.version(lfn) === version) return { lfn, status: 'current', version }
      if (info.modality === undefined || info.modality === '') return { lfn, status: 'failed', version, reason: 'NoModality' }
      if (!fetch && this.init.slicesOnDisk !== undefined && !await this.init.slicesOnDisk(lfn)) return { lfn, status: 'virtual', version }
      const started = performance.now()
      let assembled
      try {
        const files = await this.init.slices.ensure(info, { signal })
        assembled = await assembleVolume(sources(files), { signal })
      } finally {
        this.init.slices.release?.(info)
      }
      const { data, plan } = assembled
      signal.throwIfAborted()
      const features = extractFeatures({
        data,
        dims: plan.dims,
        affine: plan.geometry.affineLps,
        space: 'LPS',
        rescale: { slope: plan.scaling.sclSlope, intercept: plan.scaling.sclInter },
        modality: info.modality,
        bodyPart: info.bodyPart ?? ''
      }, this.init.extract)
      await index.put({
        lfn,
        version,
        modality: info.modality,
        bodyPart: info.bodyPart ?? '',
        ...(info.date === undefined ? {} : { date: info.date }),
        ...(info.studyType === undefined ? {} : { studyType: info.studyType })
      }, features)
      log('indexed features of %s v%d in %d ms', lfn, version, Math.round(performance.now() - started))
      return { lfn, status: 'indexed', version }
    } catch (err) {
      const reason = (err as Error)?.name ?? 'Error'
      if (!signal.aborted) log.error('features of %s not indexed: %s', lfn, reason)
      return { lfn, status: 'failed', reason }
    }
  }
}
