/**
 * getImage at the requester (DESIGN.md main flow, paper fig. 4a): locate the
 * LFN in the DHT, ask its master to prepare it (or prepare it here if this is
 * the master), verify the signed manifest, get the sealed chunks (each
 * chunk's hash checked) — a small image's on the master's answer stream,
 * as the master seals them (before its answer) and after the answer; a
 * larger one's from the master and every replica at once, and whatever did
 * not arrive whole over `/dm2/chunks` — and the data key wrapped to a fresh
 * X25519 key (on the answer stream too, as soon as the master's build drew
 * it and released it: it is unwrapped while the image is built), decrypt,
 * and write the NIfTI volume. Chunks already downloaded are kept between
 * attempts (resume); the output appears only once complete.
 *
 * A requester keeps what it fetched (sealed chunks and the signed manifest,
 * ciphertext only) in its node's cache of copies, and the next getImage of the
 * same image there tells the master which content it holds: if that is
 * still the master's current content, the master sends no chunks, and the
 * copy is read instead, each chunk checked against the manifest the master
 * has just signed (a chunk that fails is fetched). The master is asked every
 * time: access and the key release are judged and audited as for any
 * request, a revoked right or a new version takes effect at once, and no
 * key is ever kept here.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { HospitalNode } from '../node/index.js'
import { chunkArguments } from '../node/data-plane.js'
import { contentIdToCid, generateRecipientKeyPair, unwrapDataKey, verifySignedManifest, type Manifest } from '../privacy/payload/index.js'
import { imageArguments, INLINE_MAX_CHUNKS, type AheadChunk, type InlineChunks } from '../protocols/image/index.js'
import { keyArguments } from '../protocols/keys/index.js'
import { STALL_TIMEOUT_MS } from '../protocols/chunks/index.js'
import { DeniedError, ProtocolError } from '../protocols/status.js'
import { imageId, type ImageFormat } from '../imaging/dicom-bundle.js'
import { fileDownloads, memoryDownloads, writeDecrypted, writeDecryptedDicom, writePlaintext, type Downloads } from './downloads.js'
import { AheadPlaintext, takeAhead } from './ahead-plaintext.js'
import { heldCopy, readCopy, type HeldCopy } from './held-copy.js'
import { GetImageError } from './errors.js'
import type { Wallet } from './wallet.js'
import { byteLengthOf, type SomeBytes } from '../codec/pieces.js'

export type GetImageEvent =
  | { step: 'locate', master: string, version: number }
  | { step: 'prepare', cached: boolean | undefined }
  | { step: 'fetch', chunks: number, totalChunks: number, bytes: number, sources: number, from?: string }
  | { step: 'key' }
  | { step: 'fetched', sources: number }
  | { step: 'decrypt' }
  | { step: 'done', bytes: number, ms: number }

export interface GetImageOptions {
  /**
   * Where to write the image. NIfTI: a `.nii` file, or `.nii.gz` to have it
   * compressed here. DICOM: a folder to create, receiving IM00001.dcm, ….
   */
  out: string
  /** `nifti` (default): the assembled volume; `dicom`: the series' objects, de-identified at the master. */
  format?: ImageFormat
  /**
   * Keep a copy of a fetched image in this node's cache of copies, and read one
   * kept earlier when the master confirms it is its current content (see
   * the module doc). Default: the node's `keepCopies` setting (`true` unless
   * configured); `false` fetches everything and keeps nothing.
   */
  localCopy?: boolean
  /**
   * Images up to this many bytes are downloaded into memory, larger ones into
   * resumable chunk files (default IN_MEMORY_IMAGE_BYTES): lower it on a node
   * short of memory.
   */
  memoryBytes?: number
  signal?: AbortSignal
  onProgress?: (event: GetImageEvent) => void
}

export interface GetImageResult {
  lfn: string
  version: number
  master: string
  bytes: number
  /** Chunks per source peer (this node's own id: chunks read from its copy). */
  sources: Record<string, number>
  ms: number
}

/** Images up to this size are downloaded into memory; larger ones go to resumable chunk files. */
export const IN_MEMORY_IMAGE_BYTES = 64 * 1024 * 1024
/**
 * Replicas are looked up (a DHT query) only for images of at least this many
 * chunks: a smaller one comes from the master faster than the lookup would
 * take, and the lookup costs every site some work. The master sends the
 * chunks of a smaller one with its answer.
 */
export const MULTI_SOURCE_MIN_CHUNKS = INLINE_MAX_CHUNKS + 1

export async function getImage (node: HospitalNode, wallet: Wallet, lfn: string, options: GetImageOptions): Promise<GetImageResult> {
  const started = performance.now()
  const { signal, onProgress } = options
  const abortable = signal === undefined ? {} : { signal }
  const self = node.peerId.toString()
  const format = options.format ?? 'nifti'
  const memoryBytes = options.memoryBytes ?? IN_MEMORY_IMAGE_BYTES
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 0) throw new RangeError('memoryBytes must be a non-negative integer')
  // The file id the master sealed and keyed: the LFN for the volume, a derived id for the DICOM form.
  const id = imageId(lfn, format)
  let step = 'locate'
  let downloads: Downloads | undefined
  /** Chunks following the master's answer on its stream, until received or let go. */
  let inline: InlineChunks | undefined
  /** Chunks the master sent ahead of its answer, unchecked until the manifest is. */
  let aheadChunks: ReadonlyMap<number, AheadChunk> | undefined
  /** A copy of this image kept here earlier: named to the master, read if it is still current; pinned until read or let go. */
  let copy: HeldCopy | undefined
  try {
    // A cached record is enough: the master is fixed for an LFN, and it answers
    // `prepare` with its current version, whose manifest it signs.
    const record = await node.localization.resolveLfn(lfn, { ...abortable, first: true })
    onProgress?.({ step: 'locate', master: record.master, version: record.version })
    const master = peerIdFromString(record.master)
    const atMaster = master.equals(node.peerId)
    const custodian = master.publicKey?.raw
    const chain = custodian === undefined ? undefined : wallet.chainFor(custodian, 'image/read')
    if (chain === undefined) throw new DeniedError('NO_CERTIFICATE')
    const auth = (server: PeerId, command: string, args: Uint8Array): Uint8Array =>
      wallet.authorization(chain, { audience: server.toString(), origin: self, command, args })
    const holdersOf = async (contentId: Uint8Array): Promise<PeerId[]> =>
      await node.localization.findHolders(contentIdToCid(contentId), abortable).catch(() => [])

    step = 'prepare'
    let manifestBytes: Uint8Array
    /** The requester's one-time key pair, the master wraps the data key to it (none at the master itself). */
    const recipient = atMaster ? undefined : generateRecipientKeyPair()
    /** The data key wrapped to `recipient`, when the master handed it out with the manifest. */
    let wrappedInline: Uint8Array | undefined
    /** The key the master sent ahead of its answer, unwrapped as it arrived, for the version it named. */
    let keyAhead: { version: number, key: Promise<Uint8Array> } | undefined
    /** The volume's chunks sent ahead, opened as they arrive (used only if the answer's manifest lists them). */
    const opened = recipient !== undefined && format === 'nifti' ? new AheadPlaintext(id, record.version) : undefined
    const keepCopy = recipient !== undefined && (options.localCopy ?? node.config.keepCopies)
    copy = keepCopy ? await heldCopy(node, id) : undefined
    if (recipient === undefined) {
      const prepared = await node.dataPlane.pipeline.prepare(lfn, { format, ...abortable })
      manifestBytes = prepared.manifest
      onProgress?.({ step: 'prepare', cached: prepared.cached })
    } else {
      // The key is asked for with the image, for the version the DHT names (the usual case: it is current).
      const key = { lfn: id, version: record.version, recipient: recipient.publicKey, auth: auth(master, 'keys/release', keyArguments(id, record.version, recipient.publicKey)) }
      const prepared = await node.libp2p.services.image.prepare(master, {
        lfn,
        format,
        auth: auth(master, 'image/prepare', imageArguments(lfn, format)),
        key,
        inline: true,
        ahead: true,
        onAhead: {
          key: ({ version, wrapped }) => {
            const unwrapped = unwrapDataKey(wrapped, recipient.privateKey, { fileId: id, version })
            unwrapped.then(key => { if (version === record.version) opened?.key(key) }, () => {})
            keyAhead = { version, key: unwrapped }
          },
          layout: (layout) => { opened?.setLayout(layout) },
          chunk: (index, chunk) => { opened?.chunk(index, chunk) }
        },
        ...(copy === undefined ? {} : { have: copy.contentId })
      }, abortable)
      manifestBytes = prepared.manifest
      wrappedInline = prepared.wrapped
      inline = prepared.inline
      aheadChunks = prepared.aheadChunks
      onProgress?.({ step: 'prepare', cached: undefined })
    }
    const manifest: Manifest = await verifySignedManifest(manifestBytes, { expectedMaster: record.master })
    if (manifest.fileId !== id) throw new ProtocolError('the master answered with the manifest of another file')
    const contentIdHex = Buffer.from(manifest.merkleRoot).toString('hex')
    // The copy is read only if it is the content the master has just vouched for.
    if (copy !== undefined && Buffer.compare(copy.contentId, manifest.merkleRoot) !== 0) {
      copy.lease.release()
      copy = undefined
    }

    step = 'fetch'
    const sources: Record<string, number> = {}
    let dataKey!: Uint8Array
    /** Decrypts the chunks `chunk` gives, in order, into the output. */
    const write = async (chunk: (index: number) => Promise<SomeBytes>, key: Uint8Array, idsChecked = false): Promise<number> => {
      if (format === 'dicom') return await writeDecryptedDicom(chunk, manifest, key, options.out, { ...abortable, idsChecked })
      // Every chunk came ahead and was opened on arrival: only the writing is left.
      const plain = opened?.take(manifest, key)
      return plain !== undefined ? await writePlaintext(plain, options.out) : await writeDecrypted(chunk, manifest, key, options.out, { ...abortable, idsChecked })
    }
    /** The decryption already running during the transfer (chunks in memory). */
    let writing: Promise<number> | undefined
    let read: (index: number) => Promise<SomeBytes>
    let release = (): void => {}
    /** Keeps the copy of what was fetched, after the decryption (which reads the chunks) succeeded. */
    let keep: (() => Promise<void>) | undefined
    if (recipient === undefined) {
      // The master reads its own cache: nothing to transfer.
      const lease = await node.dataPlane.cache.images.get(id, manifest.version)
      if (lease === undefined) throw new Error('prepared image vanished from the cache')
      release = () => { lease.release() }
      read = async (i) => new Uint8Array(await readFile(lease.chunkPath(String(i))))
      sources[self] = manifest.chunks.length
      step = 'key'
      const stored = await node.dataPlane.keys.get(id, manifest.version)
      if (stored === undefined) throw new Error('no data key for the prepared version')
      dataKey = stored.dataKey
    } else {
      // The master holds what it just prepared: chunks flow from it at once, and for
      // a large image, replicas the DHT names join the transfer as soon as they are known.
      const replicas = copy === undefined && manifest.chunks.length >= MULTI_SOURCE_MIN_CHUNKS
        ? holdersOf(manifest.merkleRoot).then(holders => holders.filter(h => !h.equals(node.peerId) && !h.equals(master)))
        : Promise.resolve([])
      const inMemory = manifest.totalSize <= memoryBytes
      const sink = inMemory
        ? memoryDownloads({ keep: keepCopy })
        : await fileDownloads(join(node.config.dataDir, 'downloads', contentIdHex))
      downloads = sink
      read = sink.read
      let done = 0
      let bytes = 0
      let joined = 1
      let keyFailed = false
      // The key came ahead of the answer (unwrapped already), or with it, or is asked for while
      // the chunks flow; it is unwrapped at once. A key with the answer supersedes one sent ahead.
      const ahead = wrappedInline === undefined && keyAhead?.version === manifest.version ? keyAhead.key : undefined
      const delivered = wrappedInline !== undefined || ahead !== undefined
        ? Promise.resolve(wrappedInline)
        : node.libp2p.services.keys.request(master, {
          lfn: id, version: manifest.version, recipient: recipient.publicKey, auth: auth(master, 'keys/release', keyArguments(id, manifest.version, recipient.publicKey))
        }, abortable)
      const keyed = delivered.then(async wrapped => {
        onProgress?.({ step: 'key' })
        return await (wrapped === undefined ? ahead as Promise<Uint8Array> : unwrapDataKey(wrapped, recipient.privateKey, { fileId: id, version: manifest.version }))
      }).catch((err: unknown) => { keyFailed = true; throw err })
      // Chunks in memory are decrypted and written as they arrive, once the key is here.
      const fail = sink.fail
      writing = fail === undefined
        ? undefined
        : keyed.then(async key => {
          onProgress?.({ step: 'decrypt' })
          return await write(read, key, sink.idsChecked)
        })
      writing?.catch(() => {})
      const arrived = (size: number, from: PeerId): void => {
        done++
        bytes += size
        onProgress?.({ step: 'fetch', chunks: done, totalChunks: manifest.chunks.length, bytes, sources: joined, from: from.toString() })
      }
      const refs = manifest.chunks.map((c, index) => ({ index, id: c.id }))
      /** Chunks per source: those of the copy kept here, those that came with the answer, then the rest over /dm2/chunks. */
      const transfer = async (): Promise<Record<string, number>> => {
        const from: Record<string, number> = {}
        if (copy !== undefined) {
          from[self] = await readCopy(copy, manifest, sink, signal, size => { arrived(size, node.peerId) })
          copy.lease.release()
          copy = undefined
          if (from[self] === manifest.chunks.length) {
            // Nothing more is needed (a master that sent chunks all the same is not read).
            inline?.abandon()
            inline = undefined
            return from
          }
        }
        // Those the master sent ahead of its answer count if the manifest lists them; the rest follow the answer.
        const putAhead = await takeAhead(aheadChunks, manifest, sink, size => { arrived(size, master) })
        aheadChunks = undefined
        if (putAhead.size > 0) from[record.master] = putAhead.size
        const withAnswer = inline
        inline = undefined
        if (withAnswer !== undefined) {
          from[record.master] ??= 0
          await withAnswer.receive({
            expected: new Map(refs.filter(r => !putAhead.has(r.index)).map(r => [r.index, r.id])),
            stallMs: STALL_TIMEOUT_MS,
            ...abortable,
            onChunk: async (index, chunk) => {
              await sink.put(index, chunk)
              from[record.master] = (from[record.master] ?? 0) + 1
              arrived(byteLengthOf(chunk), master)
            }
          }).catch((err: unknown) => {
            if (signal?.aborted === true) throw err
            // A chunk that did not arrive whole (a wrong hash, a stall, a cut stream) is asked for again below.
            node.logger.forComponent('dm2:get-image')('chunks with the answer of %p incomplete: %s', master, (err as Error).name)
          })
        }
        if (from[record.master] === manifest.chunks.length) return from
        const result = await node.libp2p.services.chunks.fetch({
          contentId: manifest.merkleRoot,
          chunks: refs,
          sources: [master],
          moreSources: replicas.then(r => { joined += r.length; return r }),
          // A small image, from its master alone: every chunk in one request (one stream, one access check).
          ...(manifest.chunks.length < MULTI_SOURCE_MIN_CHUNKS ? { lanes: 1, initialBatch: manifest.chunks.length } : {}),
          sink,
          auth: async (peer) => auth(peer, 'chunks/get', chunkArguments(contentIdHex)),
          ...abortable,
          onProgress: (e) => { if (e.type === 'chunk') arrived(e.bytes, e.from) }
        })
        for (const s of result.sources) from[s.peer] = (from[s.peer] ?? 0) + s.chunks
        return from
      }
      let result
      try {
        [result, dataKey] = await Promise.all([transfer(), keyed])
      } catch (err) {
        if (keyFailed) step = 'key'
        // The decryption waiting for chunks stops, and removes what it wrote.
        fail?.(err)
        await writing?.catch(() => {})
        throw err
      }
      const served = Object.entries(result).filter(([, n]) => n > 0)
      onProgress?.({ step: 'fetched', sources: served.length })
      for (const [peer, n] of served) sources[peer] = n
      // A copy for the next request here (once decrypted whole), unless this one was read whole from it.
      if (keepCopy && result[self] !== manifest.chunks.length) {
        keep = async () => {
          const kept = node.dataPlane.copyWriter.keep(id, manifest.version, manifestBytes, sink.keep(manifest.chunks.length))
          // Chunk files move into the cache before the download folder goes; bytes in memory are written meanwhile.
          if (!inMemory) await kept
        }
      }
    }

    step = 'decrypt'
    let total: number
    try {
      if (writing !== undefined) {
        total = await writing
      } else {
        onProgress?.({ step: 'decrypt' })
        total = await write(read, dataKey, downloads?.idsChecked)
      }
    } finally {
      release()
    }
    await keep?.()
    await downloads?.remove()
    const ms = performance.now() - started
    onProgress?.({ step: 'done', bytes: total, ms })
    return { lfn, version: manifest.version, master: record.master, bytes: total, sources, ms }
  } catch (err) {
    inline?.abandon(err as Error)
    copy?.lease.release()
    // File downloads are kept for a resumed attempt; memory ones go with `downloads`.
    if (signal?.aborted === true) throw err
    throw new GetImageError(step, err)
  }
}
