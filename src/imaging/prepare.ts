/**
 * Preparing an image at its master site — steps 2 to 6 of getImage (DESIGN.md,
 * paper fig. 4a): image cache → registry → slice files (cache, else the
 * PACS) → assemble → encrypt → commit to the image cache → sign the manifest
 * → announce the content id in the DHT.
 *
 * A cache hit is answered outside any transaction (no effect, a few ms). A
 * miss runs as one DSE¹ query (`prepare-image`) on the injected `TxEngine`:
 * admission control (at most N preparations, a bounded queue, then
 * `BusyError`), one joined `build` request per `lfn@version` on the
 * `pacs:<site>` pool (ten callers, one PACS fetch), every effect journaled
 * with its undo (src/imaging/compensations.ts). A failure gives one
 * `PrepareError` naming the step and leaves nothing behind.
 *
 * The volume leaves the site as NIfTI (.nii) only: voxels and geometry,
 * no DICOM header, so no identifying attribute can travel with it; the JSON
 * sidecar (descriptive acquisition metadata) stays here.
 */
import type { Logger } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import type { ImageCache } from '../cache/images.js'
import type { ManifestSigner } from '../privacy/payload/index.js'
import { TransactionError, TxEngine } from '../tx/index.js'
import type { Deidentifier } from '../privacy/deid/index.js'
import { buildImage, type BuildDeps, type PublishInput } from './build.js'
import { imageId, type ImageFormat } from './dicom-bundle.js'
import type { ContentIndex } from './chunk-store.js'
import { registerCompensations } from './compensations.js'
import { DEFAULT_SITE, PACS_SERVICE_PREFIX, PREPARE_QUERY } from './constants.js'
import { PrepareError, UnknownLfnError } from './errors.js'
import type { DataKeys } from './keystore.js'
import { memoryJournal } from './memory-journal.js'
import type { PreparedImage, PrepareEvent, SeriesCatalog, SeriesInfo, SliceProvider } from './types.js'

export { DEID_PROFILE } from './constants.js'
export type { PublishInput } from './build.js'

export interface ImagePipelineInit {
  catalog: SeriesCatalog
  slices: SliceProvider
  images: ImageCache
  keys: DataKeys
  /** Content id → image, for the chunk protocol. */
  index: ContentIndex
  signer: ManifestSigner
  /** This site's peer id (the manifest's master). */
  master: string
  /** Announces the new version (LFN record + provider record). */
  publish: (input: PublishInput) => Promise<void>
  /** Scratch folder for temporary volumes and chunks. */
  scratch: string
  log: Logger
  chunkSize?: number
  /**
   * The transaction engine (journal in the node's level, recovered at
   * start-up after this pipeline registered its compensations). Without one,
   * a private engine with an in-memory journal: atomic, but not crash-safe.
   */
  engine?: TxEngine
  /** This hospital's name: the PACS pool is `pacs:<site>` (default `DEFAULT_SITE`). */
  site?: string
  /** De-identifies the objects of the DICOM form (keyed by the site's secret); absent: NIfTI only. */
  deidentifier?: Deidentifier
}

export interface PrepareOptions {
  /** `nifti` (default): the assembled volume; `dicom`: the series' objects, de-identified. */
  format?: ImageFormat
  signal?: AbortSignal
  onProgress?: (event: PrepareEvent) => void
}

export class ImagePipeline {
  readonly engine: TxEngine
  /** True when the engine was made here (no `init.engine`): `close()` closes it. */
  private readonly ownsEngine: boolean
  private readonly init: ImagePipelineInit
  private readonly deps: BuildDeps
  private readonly service: string
  /** Progress listeners of the callers joined on one `lfn@version` (the build runs once for all). */
  private readonly listeners = new Map<string, Set<(e: PrepareEvent) => void>>()
  /** DHT announcements still running in the background. */
  private readonly announcements = new Set<Promise<void>>()

  constructor (init: ImagePipelineInit) {
    this.init = init
    this.ownsEngine = init.engine === undefined
    this.engine = init.engine ?? new TxEngine({ db: memoryJournal(), logger: defaultLogger(), syncJournal: false })
    this.service = `${PACS_SERVICE_PREFIX}:${init.site ?? DEFAULT_SITE}`
    const undo = registerCompensations(this.engine, init)
    this.deps = {
      slices: init.slices,
      images: init.images,
      keys: init.keys,
      index: init.index,
      signer: init.signer,
      master: init.master,
      publish: init.publish,
      scratch: init.scratch,
      log: init.log,
      undo,
      track: (announcement) => {
        this.announcements.add(announcement)
        announcement.finally(() => { this.announcements.delete(announcement) }).catch(() => {})
      },
      ...(init.chunkSize === undefined ? {} : { chunkSize: init.chunkSize }),
      ...(init.deidentifier === undefined ? {} : { deidentifier: init.deidentifier })
    }
  }

  /** The current version's series description, or `UnknownLfnError`. */
  async describe (lfn: string): Promise<SeriesInfo> {
    const info = await this.init.catalog.describe(lfn)
    if (info === undefined) throw new UnknownLfnError(lfn)
    return info
  }

  /**
   * Prepares (or finds in the cache) the encrypted image of the LFN's current
   * version. Throws `UnknownLfnError`, `BusyError` (admission control; status
   * BUSY on the wire), `AbortError`, or one `PrepareError` naming the step.
   */
  async prepare (lfn: string, options: PrepareOptions = {}): Promise<PreparedImage> {
    const info = await this.describe(lfn)
    const format = options.format ?? 'nifti'
    const id = imageId(lfn, format)
    const cached = await this.fromCache(info, id)
    options.onProgress?.({ step: 'cache', hit: cached !== undefined })
    if (cached !== undefined) return cached
    const key = `${id}@${info.version}`
    const listener = options.onProgress
    if (listener !== undefined) this.listen(key, listener)
    try {
      return await this.engine.run(PREPARE_QUERY, async (q) => {
        // Another caller may have committed it while this one waited for admission.
        const again = await q.tool('cache', async () => await this.fromCache(info, id))
        if (again !== undefined) return again
        return await q.request('build', { service: this.service, join: key },
          async (r) => await buildImage(r, this.deps, info, (e) => { this.emit(key, e) }, format))
      }, options.signal === undefined ? {} : { signal: options.signal })
    } catch (err) {
      throw this.toError(err)
    } finally {
      if (listener !== undefined) this.unlisten(key, listener)
    }
  }

  /** Resolves once every background announcement has finished (before closing the DHT). */
  async settled (): Promise<void> {
    while (this.announcements.size > 0) await Promise.allSettled([...this.announcements])
  }

  /** Waits for background announcements; closes the engine if this pipeline made it (an injected one is the node's). */
  async close (): Promise<void> {
    await this.settled()
    if (this.ownsEngine) await this.engine.close()
  }

  /** Engine counters (running, queued, rejected, joined, pools) for `dm2 status`. */
  stats (): ReturnType<TxEngine['stats']> {
    return this.engine.stats()
  }

  private toError (err: unknown): unknown {
    // BusyError and AbortError (a TransactionAbortError) keep their names: callers and the wire map them.
    if (!(err instanceof TransactionError) || err.name === 'AbortError') return err
    // A step may name a finer one than the tool it ran in (assembly read by the seal step).
    if (err.cause instanceof PrepareError) return err.cause
    return new PrepareError(err.step.name, err.cause)
  }

  private listen (key: string, listener: (e: PrepareEvent) => void): void {
    const set = this.listeners.get(key) ?? new Set()
    set.add(listener)
    this.listeners.set(key, set)
  }

  private unlisten (key: string, listener: (e: PrepareEvent) => void): void {
    const set = this.listeners.get(key)
    set?.delete(listener)
    if (set?.size === 0) this.listeners.delete(key)
  }

  private emit (key: string, event: PrepareEvent): void {
    for (const listener of this.listeners.get(key) ?? []) {
      try {
        listener(event)
      } catch {
        // A listener's bug must not fail the preparation.
      }
    }
  }

  /** The cached image `id` (the LFN, or its DICOM form's id) of the series' current version. */
  private async fromCache (info: SeriesInfo, id: string): Promise<PreparedImage | undefined> {
    const lease = await this.init.images.get(id, info.version)
    if (lease === undefined) return undefined
    try {
      const stored = await this.init.keys.get(id, info.version)
      if (stored === undefined) return undefined
      return { lfn: id, version: info.version, manifest: lease.manifest, contentId: stored.contentId, cached: true }
    } finally {
      lease.release()
    }
  }
}
