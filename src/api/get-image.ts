/**
 * getImage at the requester (DESIGN.md main flow, paper fig. 4a): locate the
 * LFN in the DHT, ask its master to prepare it (or prepare it here if this is
 * the master), verify the signed manifest, pull the sealed chunks from the
 * master and every replica at once (each chunk's hash checked), get the data
 * key wrapped to a fresh X25519 key, decrypt, and write the NIfTI volume.
 * Chunks already downloaded are kept between attempts (resume); the output
 * appears only once complete.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { randomBytes } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { HospitalNode } from '../node/index.js'
import { chunkArguments } from '../node/data-plane.js'
import {
  contentIdToCid, generateRecipientKeyPair, openStream, unwrapDataKey, verifySignedManifest, type Manifest, type SealedChunk
} from '../privacy/payload/index.js'
import { imageArguments } from '../protocols/image/index.js'
import { keyArguments } from '../protocols/keys/index.js'
import type { ChunkSink } from '../protocols/chunks/types.js'
import { DeniedError } from '../protocols/status.js'
import { GetImageError } from './errors.js'
import type { Wallet } from './wallet.js'

export type GetImageEvent =
  | { step: 'locate', master: string, version: number }
  | { step: 'prepare', cached: boolean | undefined }
  | { step: 'fetch', chunks: number, totalChunks: number, bytes: number, sources: number, from?: string }
  | { step: 'decrypt' }
  | { step: 'done', bytes: number, ms: number }

export interface GetImageOptions {
  /** Where to write the volume (`.nii.gz`). */
  out: string
  signal?: AbortSignal
  onProgress?: (event: GetImageEvent) => void
}

export interface GetImageResult {
  lfn: string
  version: number
  master: string
  bytes: number
  /** Chunks per source peer. */
  sources: Record<string, number>
  ms: number
}

/** Chunk files of one content id under the node's download folder: a resumable sink. */
function fileSink (dir: string): ChunkSink & { path: (i: number) => string } {
  const path = (i: number): string => join(dir, `chunk-${i}`)
  return {
    path,
    has: async (i) => await stat(path(i)).then(() => true, () => false),
    put: async (i, bytes) => {
      const tmp = `${path(i)}.part`
      await writeFile(tmp, bytes, { mode: 0o600 })
      await rename(tmp, path(i))
    }
  }
}

export async function getImage (node: HospitalNode, wallet: Wallet, lfn: string, options: GetImageOptions): Promise<GetImageResult> {
  const started = performance.now()
  const { signal, onProgress } = options
  const self = node.peerId.toString()
  let step = 'locate'
  try {
    const record = await node.localization.resolveLfn(lfn, { fresh: true, ...(signal === undefined ? {} : { signal }) })
    onProgress?.({ step: 'locate', master: record.master, version: record.version })
    const master = peerIdFromString(record.master)
    const custodian = master.publicKey?.raw
    const chain = custodian === undefined ? undefined : wallet.chainFor(custodian, 'image/read')
    if (chain === undefined) throw new DeniedError('NO_CERTIFICATE')
    const auth = (server: PeerId, command: string, args: Uint8Array): Uint8Array =>
      wallet.authorization(chain, { audience: server.toString(), origin: self, command, args })

    step = 'prepare'
    let manifestBytes: Uint8Array
    if (master.equals(node.peerId)) {
      const prepared = await node.dataPlane.pipeline.prepare(lfn, signal === undefined ? {} : { signal })
      manifestBytes = prepared.manifest
      onProgress?.({ step: 'prepare', cached: prepared.cached })
    } else {
      const prepared = await node.libp2p.services.image.prepare(master, { lfn, auth: auth(master, 'image/prepare', imageArguments(lfn)) }, signal === undefined ? {} : { signal })
      manifestBytes = prepared.manifest
      onProgress?.({ step: 'prepare', cached: undefined })
    }
    const manifest: Manifest = await verifySignedManifest(manifestBytes, { expectedMaster: record.master })
    const contentIdHex = Buffer.from(manifest.merkleRoot).toString('hex')

    step = 'fetch'
    const downloads = join(node.config.dataDir, 'downloads', contentIdHex)
    await mkdir(downloads, { recursive: true, mode: 0o700 })
    const sink = fileSink(downloads)
    const sources: Record<string, number> = {}
    if (master.equals(node.peerId)) {
      // The master reads its own cache: nothing to transfer.
      const lease = await node.dataPlane.cache.images.get(lfn, manifest.version)
      if (lease === undefined) throw new Error('prepared image vanished from the cache')
      try {
        for (let i = 0; i < manifest.chunks.length; i++) await sink.put(i, new Uint8Array(await readFile(lease.chunkPath(String(i)))))
      } finally {
        lease.release()
      }
      sources[self] = manifest.chunks.length
    } else {
      let holders: PeerId[] = [master]
      try {
        holders = await node.localization.findHolders(contentIdToCid(manifest.merkleRoot), signal === undefined ? {} : { signal })
      } catch {}
      if (!holders.some(h => h.equals(master))) holders.unshift(master)
      const others = holders.filter(h => !h.equals(node.peerId))
      let done = 0
      let bytes = 0
      const result = await node.libp2p.services.chunks.fetch({
        contentId: manifest.merkleRoot,
        chunks: manifest.chunks.map((c, index) => ({ index, id: c.id })),
        sources: others,
        sink,
        auth: async (peer) => auth(peer, 'chunks/get', chunkArguments(contentIdHex)),
        ...(signal === undefined ? {} : { signal }),
        onProgress: (e) => {
          if (e.type !== 'chunk') return
          done++
          bytes += e.bytes
          onProgress?.({ step: 'fetch', chunks: done, totalChunks: manifest.chunks.length, bytes, sources: others.length, from: e.from.toString() })
        }
      })
      for (const s of result.sources) if (s.chunks > 0) sources[s.peer] = s.chunks
    }

    step = 'key'
    const recipient = generateRecipientKeyPair()
    let dataKey: Uint8Array
    if (master.equals(node.peerId)) {
      const stored = await node.dataPlane.keys.get(lfn, manifest.version)
      if (stored === undefined) throw new Error('no data key for the prepared version')
      dataKey = stored.dataKey
    } else {
      const wrapped = await node.libp2p.services.keys.request(master, {
        lfn, version: manifest.version, recipient: recipient.publicKey, auth: auth(master, 'keys/release', keyArguments(lfn, manifest.version, recipient.publicKey))
      }, signal === undefined ? {} : { signal })
      dataKey = await unwrapDataKey(wrapped, recipient.privateKey, { fileId: lfn, version: manifest.version })
    }

    step = 'decrypt'
    onProgress?.({ step: 'decrypt' })
    async function * sealed (): AsyncGenerator<SealedChunk> {
      for (let index = 0; index < manifest.chunks.length; index++) {
        yield { index, id: (manifest.chunks[index] as { id: Uint8Array }).id, bytes: new Uint8Array(await readFile(sink.path(index))) }
      }
    }
    const tmp = `${options.out}.${randomBytes(6).toString('hex')}.part`
    let total = 0
    try {
      const out = createWriteStream(tmp, { mode: 0o600 })
      for await (const piece of openStream(sealed(), dataKey, manifest, signal === undefined ? {} : { signal })) {
        total += piece.byteLength
        if (!out.write(piece)) await new Promise<void>(resolve => { out.once('drain', () => { resolve() }) })
      }
      out.end()
      await finished(out)
      await rename(tmp, options.out)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    await rm(downloads, { recursive: true, force: true })
    const ms = performance.now() - started
    onProgress?.({ step: 'done', bytes: total, ms })
    return { lfn, version: manifest.version, master: record.master, bytes: total, sources, ms }
  } catch (err) {
    if (signal?.aborted === true) throw err
    throw new GetImageError(step, err)
  }
}
