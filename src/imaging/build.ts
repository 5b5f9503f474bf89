/**
 * The body of the joined `build` request of a preparation: one execution per
 * `lfn@version` in flight, holding a slot of the `pacs:<site>` pool while it
 * fetches slices (released before assembly, which is local work). Every
 * step is a tool (TOD) that journals its undo before its effect, so a failure
 * anywhere (or a crash, see `engine.recover()`) leaves no work folder, no
 * cache entry, no data key and no content-index entry behind.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Logger } from '@libp2p/interface'
import { assembledSlices, niftiByteLength, planAssembly } from '../assembly/index.js'
import { NIFTI_VOX_OFFSET } from '../assembly/constants.js'
import type { Deidentifier } from '../privacy/deid/index.js'
import type { ImageCache } from '../cache/images.js'
import {
  buildManifest, contentIdToCid, DEFAULT_CHUNK_SIZE, encodeSignedManifest, generateDataKey, sealStream, signManifest, chunkCount, TAG_BYTES, type ManifestSigner, type PayloadLayout, type SealedChunk
} from '../privacy/payload/index.js'
import type { RequestContext } from '../tx/index.js'
import type { ContentIndex } from './chunk-store.js'
import { sha256Hex, type PrepareCompensations } from './compensations.js'
import { CHUNK_WRITES_IN_FLIGHT, DEID_PROFILE, DICOM_DEID_PROFILE, EARLY_SLICE_BYTES } from './constants.js'
import { bundleObjects, imageId, type ImageFormat } from './dicom-bundle.js'
import { ChunkFiles } from './chunk-files.js'
import type { HotImages } from './hot-images.js'
import { EarlySlices } from './early-slices.js'
import { PrepareError } from './errors.js'
import { keyIdOf, type DataKeys } from './keystore.js'
import type { PreparedImage, PrepareEvent, SeriesInfo, SliceProvider } from './types.js'

export interface PublishInput {
  lfn: string
  version: number
  contentId: Uint8Array
  manifestHash: Uint8Array
  meta: Record<string, string | number>
  cid: ReturnType<typeof contentIdToCid>
}

export interface BuildDeps {
  slices: SliceProvider
  images: ImageCache
  keys: DataKeys
  index: ContentIndex
  signer: ManifestSigner
  master: string
  publish: (input: PublishInput) => Promise<void>
  scratch: string
  log: Logger
  chunkSize?: number
  undo: PrepareCompensations
  /** Keeps a background announcement so that `settled()` can wait for it. */
  track: (announcement: Promise<void>) => void
  /** De-identifies each object of the DICOM form (absent: the site offers NIfTI only). */
  deidentifier?: Deidentifier
  /** Sealed images served from memory while they commit (an early answer needs one). */
  hot?: HotImages
}

/** What a preparation hears of its build (see ImagePipeline.prepare). */
export interface BuildHooks {
  /** Progress, fanned out to every joined caller. */
  emit: (e: PrepareEvent) => void
  /**
   * With it, an image that fits `deps.hot` is announced through it as soon as
   * its manifest is signed and its data key stored: its chunks are then served
   * from memory while the commit runs (which a failure still undoes whole, the
   * early answer's key and chunks included).
   */
  ready?: (image: PreparedImage) => void
  /** Sees the data key as soon as it exists (ImagePipeline's `onDataKey`). */
  drawn?: (dataKey: Uint8Array) => void
  /** Sees each chunk as it is sealed, with the sealing's layout, for an image held for `ready` (ImagePipeline's `onSealed`). */
  sealed?: (chunk: SealedChunk, layout: PayloadLayout) => void
}

/** What the seal step reads: a work file (the DICOM form) or the volume's bytes as assembly makes them. */
type Plaintext =
  | { kind: 'file', path: string }
  | { kind: 'stream', bytes: AsyncIterable<Uint8Array>, totalSize: number }

/** Runs the build steps as tools of `r`, telling `hooks` (see BuildHooks). */
export async function buildImage (r: RequestContext, deps: BuildDeps, info: SeriesInfo, hooks: BuildHooks, format: ImageFormat = 'nifti'): Promise<PreparedImage> {
  const { version } = info
  const { emit, ready, drawn } = hooks
  // What is cached, keyed, sealed and indexed: the LFN for the volume, a derived id for the DICOM form.
  const lfn = imageId(info.lfn, format)
  // The data key exists before anything is fetched, so that the undo of storing it is journaled now,
  // in the same LevelDB group commit as the work folder's, rather than on the way to the early answer.
  const dataKey = generateDataKey()
  drawn?.(dataKey)
  const work = await r.tool('workdir', async (s) => {
    const path = join(deps.scratch, `prepare-${randomBytes(6).toString('hex')}`)
    // What this preparation will fetch, it takes away again if it fails (no residue in the slice cache):
    // journaled with the rest, in the same group commit, rather than on its own on the way to the PACS.
    const missing = await deps.slices.missing?.(info) ?? []
    await Promise.all([
      s.compensate(deps.undo.workDir, { path }),
      s.compensate(deps.undo.key, { lfn, version, keyId: keyIdOf(dataKey) }),
      ...(missing.length > 0 ? [s.compensate(deps.undo.slices, { lfn: info.lfn, keys: missing })] : [])
    ])
    await mkdir(path, { recursive: true, mode: 0o700 })
    return path
  })
  // Slices are read and their headers parsed as they arrive from the PACS (see early-slices.ts),
  // and the chunk files are created meanwhile (see chunk-files.ts).
  const early = new EarlySlices(EARLY_SLICE_BYTES)
  const chunkFiles = new ChunkFiles(work)
  /** Every chunk file write started: the commit waits for them, and the work folder goes only once they settled. */
  const writes: Array<Promise<void>> = []
  /** The content id held in `deps.hot` for the early answer, until the commit ends. */
  let held: string | undefined
  if (format === 'nifti') chunkFiles.prepare(expectedChunks(info, deps.chunkSize ?? DEFAULT_CHUNK_SIZE))
  /** The slices were asked for: they are released (the provider may then evict them) once this build is done. */
  let ensured = false
  try {
    const files = await r.tool('slices', async (s) => {
      ensured = true
      return await deps.slices.ensure(info, {
        signal: s.signal,
        onProgress: (p) => { s.progress(p); emit({ step: 'slices', ...p }) },
        onFile: (f) => { early.add(f) }
      })
    })
    // The PACS is done with: the next preparation may fetch while this one assembles and seals.
    r.releaseService()

    const plaintext: Plaintext = format === 'dicom'
      ? await r.tool('deidentify', async (s) => {
        const deid = deps.deidentifier
        if (deid === undefined) throw new PrepareError('deidentify', new Error('this site offers no DICOM form'))
        emit({ step: 'deidentify' })
        const out = join(work, 'series.dcmb')
        async function * objects (): AsyncGenerator<Uint8Array> {
          for (const f of files) {
            s.signal.throwIfAborted()
            // PS3.15 Annex E basic profile; objects that may carry burned-in text are refused (typed error).
            yield (deid as Deidentifier).deidentify(new Uint8Array(await readFile(f.path))).bytes
          }
        }
        await pipeline(Readable.from(bundleObjects(objects())), createWriteStream(out, { mode: 0o600 }), { signal: s.signal })
        return { kind: 'file', path: out }
      })
      : await r.tool('assemble', async (s) => {
        emit({ step: 'assemble' })
        // Slices already on disk (a slice-cache hit) are read now, all at once.
        for (const f of files) early.add(f)
        await early.settled()
        // Pass 1 (every geometry and format check) here; pass 2 streams the voxels
        // into the seal step, so no volume file is written and read back.
        const plan = await planAssembly(early.sources(files), { signal: s.signal, headerOf: early.headerOf })
        async function * niftiBytes (): AsyncGenerator<Uint8Array> {
          yield plan.header
          try {
            for await (const slice of assembledSlices(plan, { signal: s.signal })) {
              yield new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength)
            }
          } catch (err) {
            // A slice unreadable in pass 2 is an assembly failure, whichever step reads it.
            throw s.signal.aborted ? err : new PrepareError('assemble', err)
          }
        }
        // Uncompressed: the payload is encrypted (incompressible) next, and gzip would cost more CPU
        // than the LAN saves; a requester who wants .nii.gz compresses on arrival.
        return { kind: 'stream', bytes: niftiBytes(), totalSize: niftiByteLength(plan) }
      })

    const sealed = await r.tool('seal', async (s) => {
      const input = plaintext.kind === 'file'
        ? { bytes: createReadStream(plaintext.path), totalSize: (await stat(plaintext.path)).size }
        : plaintext
      const sealer = sealStream(input.bytes, dataKey, {
        fileId: lfn,
        version,
        totalSize: input.totalSize,
        ...(deps.chunkSize === undefined ? {} : { chunkSize: deps.chunkSize }),
        signal: s.signal,
        onProgress: (p) => {
          s.progress({ done: p.chunks, total: p.totalChunks })
          emit({ step: 'seal', chunks: p.chunks, totalChunks: p.totalChunks })
        }
      })
      // Held in memory for an early answer when the image fits (see hot-images.ts).
      const hold = ready !== undefined && deps.hot?.fits(input.totalSize + chunkCount(sealer.layout) * TAG_BYTES) === true
      const kept: Uint8Array[] = []
      // Chunk files are written while the next chunks are sealed, a few at a time
      // (all at once when held: the bytes are in memory anyway, and the commit waits for them).
      const chunks: Array<{ name: string, source: { path: string } }> = []
      const inFlight = new Set<Promise<void>>()
      try {
        for await (const chunk of sealer.chunks) {
          if (hold) {
            kept.push(chunk.bytes)
            // Watchers may send it on at once (it is held anyway): its manifest follows with the early answer.
            hooks.sealed?.(chunk, sealer.layout)
          }
          const path = chunkFiles.path(chunk.index)
          const write: Promise<void> = chunkFiles.write(chunk.index, chunk.bytes).then(() => { inFlight.delete(write) })
          write.catch(() => {})
          writes.push(write)
          inFlight.add(write)
          chunks.push({ name: String(chunk.index), source: { path } })
          if (!hold && inFlight.size >= CHUNK_WRITES_IN_FLIGHT) await Promise.race(inFlight)
        }
        if (!hold) await Promise.all(inFlight)
      } catch (err) {
        // Nothing may still be writing into the work folder when it is removed.
        await Promise.allSettled(writes)
        throw err
      }
      if (plaintext.kind === 'file') await rm(plaintext.path, { force: true })
      return { dataKey, chunks, layout: sealer.layout, refs: sealer.refs, kept: hold ? kept : undefined }
    })

    const signed = await r.tool('sign', async () => {
      const manifest = buildManifest({ layout: sealed.layout, chunks: sealed.refs, deidProfile: format === 'dicom' ? DICOM_DEID_PROFILE : DEID_PROFILE, master: deps.master })
      const encoded = encodeSignedManifest(await signManifest(manifest, deps.signer))
      return { merkleRoot: manifest.merkleRoot, encoded, contentId: Buffer.from(manifest.merkleRoot).toString('hex') }
    })
    const { contentId, encoded } = signed

    // Early answer: the key stored and the chunks served from memory now; the commit follows.
    let keyStored = false
    if (sealed.kept !== undefined && ready !== undefined) {
      const kept = sealed.kept
      await r.tool('ready', async () => {
        await deps.keys.put(lfn, version, { dataKey: sealed.dataKey, contentId })
        keyStored = true
        if (deps.hot?.add(contentId, { lfn, version, chunks: kept }) === true) held = contentId
      })
      if (held !== undefined) ready({ lfn, version, manifest: encoded, contentId, cached: false })
    }

    await r.tool('commit', async (s) => {
      // Every chunk file complete (an early answer did not wait for them).
      await Promise.all(writes)
      // Every undo is journaled before any effect (each undo skips an effect that never happened);
      // written at once, the journal records share one LevelDB group commit.
      await Promise.all([
        s.compensate(deps.undo.image, { lfn, version, manifestSha256: sha256Hex(encoded) }),
        s.compensate(deps.undo.index, { contentId })
      ])
      // The key first: a cached image is useless without it.
      if (!keyStored) await deps.keys.put(lfn, version, { dataKey: sealed.dataKey, contentId })
      await deps.images.put(lfn, version, { manifest: encoded, chunks: sealed.chunks }, { signal: s.signal })
      await deps.index.put(contentId, lfn, version)
    })

    // The LFN record names the volume's content; the DICOM form is found through its master.
    if (format === 'nifti') {
      await r.tool('publish', () => {
        emit({ step: 'publish' })
        // Not awaited: the requester already talks to this master, which serves the image now;
        // the DHT records only let later requesters find it and replicas join. A failure is
        // retried by the republisher.
        deps.track(deps.publish({
          lfn,
          version,
          contentId: signed.merkleRoot,
          manifestHash: new Uint8Array(createHash('sha256').update(encoded).digest()),
          meta: info.meta,
          cid: contentIdToCid(signed.merkleRoot)
        }).catch((err: unknown) => {
          deps.log('announcing %s v%d failed for now: %s', lfn, version, (err as Error).name)
        }))
      })
    }
    deps.log('prepared %s v%d: %d chunks', lfn, version, sealed.chunks.length)
    return { lfn, version, manifest: encoded, contentId, cached: false }
  } finally {
    if (ensured) deps.slices.release?.(info)
    early.close()
    // Committed (served from the cache now) or failed (its key is undone): no longer served from memory.
    if (held !== undefined) deps.hot?.remove(held)
    await Promise.allSettled(writes)
    await chunkFiles.close()
    await rm(work, { recursive: true, force: true })
  }
}

/** Chunks of the volume as the catalog describes it (16-bit voxels; a larger volume creates the rest on demand). */
function expectedChunks (info: SeriesInfo, chunkSize: number): number {
  const n = (key: string): number => Number(info.meta[key] ?? 0)
  const voxels = n('rows') * n('columns') * n('slices')
  return Number.isFinite(voxels) && voxels > 0 ? Math.ceil((NIFTI_VOX_OFFSET + voxels * 2) / chunkSize) : 0
}
