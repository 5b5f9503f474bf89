/**
 * Preparing an image at its master site — steps 2 to 6 of getImage (DESIGN.md,
 * paper fig. 4a): image cache → registry → slice files (cache, else the
 * PACS) → assemble → encrypt → commit to the image cache → sign the manifest
 * → announce the content id in the DHT. Identical requests in flight are
 * joined; a failure leaves no temp file, no cache entry and no key behind.
 *
 * The volume leaves the site as NIfTI (.nii.gz) only: voxels and geometry,
 * no DICOM header, so no identifying attribute can travel with it; the JSON
 * sidecar (descriptive acquisition metadata) stays here.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { writeVolume, type SliceSource } from '../assembly/index.js'
import type { ImageCache } from '../cache/images.js'
import {
  buildManifest, contentIdToCid, encodeSignedManifest, generateDataKey, sealStream, signManifest, type ManifestSigner
} from '../privacy/payload/index.js'
import { PrepareError, UnknownLfnError } from './errors.js'
import type { ContentIndex } from './chunk-store.js'
import type { DataKeys } from './keystore.js'
import type { PreparedImage, PrepareEvent, SeriesCatalog, SeriesInfo, SliceProvider } from './types.js'

/** The profile id written into manifests: PS3.15 Annex E basic profile applied to what travels. */
export const DEID_PROFILE = 'dm2/nifti-voxels-only/v1'

export interface PublishInput {
  lfn: string
  version: number
  contentId: Uint8Array
  manifestHash: Uint8Array
  meta: Record<string, string | number>
  cid: CID
}

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
}

export interface PrepareOptions {
  signal?: AbortSignal
  onProgress?: (event: PrepareEvent) => void
}

function sources (files: Array<{ name: string, path: string }>): SliceSource[] {
  return files.map(f => ({ name: f.name, read: async () => new Uint8Array(await readFile(f.path)) }))
}

export class ImagePipeline {
  private readonly init: ImagePipelineInit
  private readonly inflight = new Map<string, Promise<PreparedImage>>()

  constructor (init: ImagePipelineInit) {
    this.init = init
  }

  /** The current version's series description, or `UnknownLfnError`. */
  async describe (lfn: string): Promise<SeriesInfo> {
    const info = await this.init.catalog.describe(lfn)
    if (info === undefined) throw new UnknownLfnError(lfn)
    return info
  }

  /** Prepares (or finds in the cache) the encrypted image of the LFN's current version. */
  async prepare (lfn: string, options: PrepareOptions = {}): Promise<PreparedImage> {
    const info = await this.describe(lfn)
    const cached = await this.fromCache(info)
    options.onProgress?.({ step: 'cache', hit: cached !== undefined })
    if (cached !== undefined) return cached
    const key = `${lfn}@${info.version}`
    // One preparation for many callers; each keeps its own abort signal.
    let run = this.inflight.get(key)
    if (run === undefined) {
      // Shared: one caller giving up does not abort it for the others.
      const shared: PrepareOptions = options.onProgress === undefined ? {} : { onProgress: options.onProgress }
      run = this.build(info, shared).finally(() => this.inflight.delete(key))
      this.inflight.set(key, run)
    }
    if (options.signal === undefined) return await run
    const signal = options.signal
    return await new Promise<PreparedImage>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      run.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  private async fromCache (info: SeriesInfo): Promise<PreparedImage | undefined> {
    const lease = await this.init.images.get(info.lfn, info.version)
    if (lease === undefined) return undefined
    try {
      const stored = await this.init.keys.get(info.lfn, info.version)
      if (stored === undefined) return undefined
      return { lfn: info.lfn, version: info.version, manifest: lease.manifest, contentId: stored.contentId, cached: true }
    } finally {
      lease.release()
    }
  }

  private async build (info: SeriesInfo, options: PrepareOptions): Promise<PreparedImage> {
    const { lfn, version } = info
    const work = join(this.init.scratch, `prepare-${randomBytes(6).toString('hex')}`)
    let step = 'slices'
    try {
      await mkdir(work, { recursive: true, mode: 0o700 })
      const files = await this.init.slices.ensure(info, {
        signal: options.signal,
        onProgress: p => options.onProgress?.({ step: 'slices', ...p })
      })
      options.signal?.throwIfAborted()

      step = 'assemble'
      options.onProgress?.({ step: 'assemble' })
      const volume = join(work, 'volume.nii.gz')
      await writeVolume(sources(files), volume, { sidecar: false })
      options.signal?.throwIfAborted()

      step = 'encrypt'
      const dataKey = generateDataKey()
      const totalSize = (await stat(volume)).size
      const sealer = sealStream(createReadStream(volume), dataKey, {
        fileId: lfn,
        version,
        totalSize,
        ...(this.init.chunkSize === undefined ? {} : { chunkSize: this.init.chunkSize }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onProgress: p => options.onProgress?.({ step: 'seal', chunks: p.chunks, totalChunks: p.totalChunks })
      })
      const chunks: Array<{ name: string, source: { path: string } }> = []
      for await (const chunk of sealer.chunks) {
        const path = join(work, `chunk-${chunk.index}`)
        const out = createWriteStream(path, { mode: 0o600 })
        out.end(chunk.bytes)
        await finished(out)
        chunks.push({ name: String(chunk.index), source: { path } })
      }
      await rm(volume, { force: true })

      step = 'sign'
      const manifest = buildManifest({ layout: sealer.layout, chunks: sealer.refs, deidProfile: DEID_PROFILE, master: this.init.master })
      const encoded = encodeSignedManifest(await signManifest(manifest, this.init.signer))
      const contentId = Buffer.from(manifest.merkleRoot).toString('hex')

      step = 'cache'
      // The key first: a cached image is useless without it; a key without an image is harmless.
      await this.init.keys.put(lfn, version, { dataKey, contentId })
      await this.init.images.put(lfn, version, { manifest: encoded, chunks }, options.signal === undefined ? {} : { signal: options.signal })
      await this.init.index.put(contentId, lfn, version)

      step = 'publish'
      options.onProgress?.({ step: 'publish' })
      try {
        await this.init.publish({
          lfn,
          version,
          contentId: manifest.merkleRoot,
          manifestHash: new Uint8Array(createHash('sha256').update(encoded).digest()),
          meta: info.meta,
          cid: contentIdToCid(manifest.merkleRoot)
        })
      } catch (err) {
        // The image is ready and served; the announcement is retried by the republisher.
        this.init.log('announcing %s v%d failed for now: %s', lfn, version, (err as Error).name)
      }
      this.init.log('prepared %s v%d: %d chunks', lfn, version, chunks.length)
      return { lfn, version, manifest: encoded, contentId, cached: false }
    } catch (err) {
      if (options.signal?.aborted === true && (err as Error).name === 'AbortError') throw err
      throw new PrepareError(step, err)
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }
}
