/**
 * Preparing an image at its master site — steps 2 to 6 of getImage (DESIGN.md,
 * paper fig. 4a): image cache → registry → slice files (cache, else the
 * PACS) → assemble → encrypt (the chunk files of the cache entry are
 * written meanwhile) → sign the manifest → commit to the image cache →
 * announce the content id in the DHT.
 *
 * One overlap with DESIGN.md's order, for a requester at another site
 * (`early`): it is answered once the manifest is signed and the data key
 * stored, and pulls the chunks (step 7) from memory while the commit to the
 * image cache finishes. The commit stays atomic: if it fails, the key and
 * the chunks held are undone with the rest, and that requester's transfer
 * fails with a typed error rather than getting anything half-committed.
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
import type { ManifestSigner, PayloadLayout, SealedChunk } from '../privacy/payload/index.js'
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
import type { HotImages } from './hot-images.js'
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
  /** Sealed images served from memory while they commit; without, no early answers. */
  hot?: HotImages
}

export interface PrepareOptions {
  /** `nifti` (default): the assembled volume; `dicom`: the series' objects, de-identified. */
  format?: ImageFormat
  /**
   * Answer as soon as the image can be served (manifest signed, data key
   * stored, sealed chunks held in memory: see hot-images.ts) rather than once
   * it is committed to the image cache, which then finishes in the
   * background (`settled()` waits for it). A failure after the answer still
   * undoes everything, the key included: the requester's transfer then
   * fails. The caller's signal stops following the preparation once
   * answered. For requesters that fetch the chunks over the network; a
   * caller reading the image cache itself must not ask for it.
   */
  early?: boolean
  signal?: AbortSignal
  onProgress?: (event: PrepareEvent) => void
  /**
   * Called with the data key of the build this call starts or joins, and the
   * version it is for, as soon as the build draws it (before anything is
   * fetched), or at once when joining a build that drew it already; never
   * for an image found in the cache. In-process only: it lets a key release
   * be computed while the image is built (protocols/image), and the key must
   * not outlive that use. A key handed out here may still be undone with a
   * failed build: whoever uses it compares it with the stored one first.
   */
  onDataKey?: (dataKey: Uint8Array, version: number) => void
  /**
   * Called with each chunk of the build this call starts or joins as soon as
   * it is sealed, with the sealing's layout and the version; a caller joining
   * mid-seal sees only the chunks sealed after it joined. Only for an image
   * held in memory for an early answer (`early`, and small enough: see
   * hot-images.ts), never for one found in the cache. In-process only: the
   * bytes are the very ones held (never to be written to), and they are
   * the image's only once its manifest lists them: the early answer that
   * follows is that build's, and a caller that got another answer (the
   * build failed) must not use them. It lets a requester's chunks travel
   * while the rest is still sealed (protocols/image).
   */
  onSealed?: (chunk: SealedChunk, layout: PayloadLayout, version: number) => void
}

type KeyHook = (dataKey: Uint8Array, version: number) => void
type ChunkHook = (chunk: SealedChunk, layout: PayloadLayout, version: number) => void

/** What the callers of a running build asked to see of it (`onDataKey`, `onSealed`). */
interface BuildHooks {
  dataKey?: Uint8Array
  keys: Set<KeyHook>
  chunks: Set<ChunkHook>
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
  /** Callers watching a build (its data key, its sealed chunks), by `lfn@version` of the image: only while one is. */
  private readonly hooks = new Map<string, BuildHooks>()
  /** DHT announcements, and preparations answered early, still running in the background. */
  private readonly announcements = new Set<Promise<void>>()
  /** Early answers awaited, by `lfn@version` of the image: resolved by the build once it can serve. */
  private readonly readies = new Map<string, { promise: Promise<PreparedImage>, resolve: (image: PreparedImage) => void, waiters: number }>()

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
      track: (announcement) => { this.track(announcement) },
      ...(init.chunkSize === undefined ? {} : { chunkSize: init.chunkSize }),
      ...(init.deidentifier === undefined ? {} : { deidentifier: init.deidentifier }),
      ...(init.hot === undefined ? {} : { hot: init.hot })
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
    const { onDataKey, onSealed } = options
    if (onDataKey !== undefined) this.hookKey(key, info.version, onDataKey)
    if (onSealed !== undefined) this.hooksOf(key).chunks.add(onSealed)
    const early = options.early === true && this.init.hot !== undefined ? this.awaitReady(key) : undefined
    // An early caller's signal aborts the preparation only until it is answered.
    const follow = early === undefined ? undefined : followUntilDetached(options.signal)
    const signal = follow?.signal ?? options.signal
    try {
      const run = this.engine.run(PREPARE_QUERY, async (q) => {
        // Another caller may have committed it while this one waited for admission.
        const again = await q.tool('cache', async () => await this.fromCache(info, id))
        if (again !== undefined) return again
        return await q.request('build', { service: this.service, join: key },
          async (r) => await buildImage(r, this.deps, info, {
            emit: (e) => { this.emit(key, e) },
            ...(early === undefined ? {} : { ready: (image: PreparedImage) => { this.markReady(key, image) } }),
            drawn: (dataKey) => { this.keyDrawn(key, info.version, dataKey) },
            sealed: (chunk, layout) => { this.chunkSealed(key, info.version, chunk, layout) }
          }, format))
      }, signal === undefined ? {} : { signal })
      if (early === undefined) return await run
      const first = await Promise.race([run.then(image => ({ image, done: true })), early.then(image => ({ image, done: false }))])
      if (!first.done) {
        // Answered: the commit goes on in the background, and its failure is only logged (everything undone).
        this.track(run.then(() => {}, (err: unknown) => {
          this.init.log('preparation of %s v%d failed after its early answer: %s', id, info.version, (this.toError(err) as Error).message)
        }))
      }
      return first.image
    } catch (err) {
      throw this.toError(err)
    } finally {
      if (early !== undefined) this.stopWaiting(key, early)
      follow?.detach()
      if (listener !== undefined) this.unlisten(key, listener)
      if (onDataKey !== undefined) this.hooksOf(key).keys.delete(onDataKey)
      if (onSealed !== undefined) this.hooksOf(key).chunks.delete(onSealed)
      this.dropHooksIfUnused(key)
    }
  }

  /** The early answer for `key`, shared by every caller waiting for it now. */
  private awaitReady (key: string): Promise<PreparedImage> {
    let entry = this.readies.get(key)
    if (entry === undefined) {
      let answer!: (image: PreparedImage) => void
      const promise = new Promise<PreparedImage>(resolve => { answer = resolve })
      entry = { promise, resolve: answer, waiters: 0 }
      this.readies.set(key, entry)
    }
    entry.waiters++
    return entry.promise
  }

  /** A caller of `awaitReady` is done waiting (answered either way). */
  private stopWaiting (key: string, promise: Promise<PreparedImage>): void {
    const entry = this.readies.get(key)
    if (entry?.promise === promise && --entry.waiters <= 0) this.readies.delete(key)
  }

  /** The build can serve `key`: the callers waiting get it; later callers wait for their own run. */
  private markReady (key: string, image: PreparedImage): void {
    const entry = this.readies.get(key)
    if (entry === undefined) return
    this.readies.delete(key)
    entry.resolve(image)
  }

  private track (work: Promise<void>): void {
    this.announcements.add(work)
    work.finally(() => { this.announcements.delete(work) }).catch(() => {})
  }

  /** Resolves once every background announcement and early-answered commit has finished (before closing the DHT). */
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

  private hooksOf (key: string): BuildHooks {
    let entry = this.hooks.get(key)
    if (entry === undefined) {
      entry = { keys: new Set(), chunks: new Set() }
      this.hooks.set(key, entry)
    }
    return entry
  }

  private dropHooksIfUnused (key: string): void {
    const entry = this.hooks.get(key)
    if (entry !== undefined && entry.keys.size === 0 && entry.chunks.size === 0) this.hooks.delete(key)
  }

  private hookKey (key: string, version: number, hook: KeyHook): void {
    const entry = this.hooksOf(key)
    entry.keys.add(hook)
    if (entry.dataKey !== undefined) callHook(() => { hook(entry.dataKey as Uint8Array, version) })
  }

  /** A build drew its data key: kept for callers joining later only while someone is hooked. */
  private keyDrawn (key: string, version: number, dataKey: Uint8Array): void {
    const entry = this.hooks.get(key)
    if (entry === undefined) return
    entry.dataKey = dataKey
    for (const hook of entry.keys) callHook(() => { hook(dataKey, version) })
  }

  /** A build held for an early answer sealed a chunk: the callers watching now see it. */
  private chunkSealed (key: string, version: number, chunk: SealedChunk, layout: PayloadLayout): void {
    for (const hook of this.hooks.get(key)?.chunks ?? []) callHook(() => { hook(chunk, layout, version) })
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

function callHook (call: () => void): void {
  try {
    call()
  } catch {
    // A caller's bug must not fail the preparation.
  }
}

/** An AbortSignal following `outer` until `detach()`; undefined without an outer signal. */
function followUntilDetached (outer: AbortSignal | undefined): { signal: AbortSignal, detach: () => void } | undefined {
  if (outer === undefined) return undefined
  const inner = new AbortController()
  const onAbort = (): void => { inner.abort(outer.reason) }
  if (outer.aborted) onAbort()
  else outer.addEventListener('abort', onAbort, { once: true })
  return { signal: inner.signal, detach: () => { outer.removeEventListener('abort', onAbort) } }
}
