/**
 * Where getImage keeps a download's sealed chunks until they are decrypted
 * (in memory for a small image, chunk files for a large one, resumable), and
 * the decryption into the output: a NIfTI file (gzip-compressed for `.gz`)
 * or a folder of DICOM objects, appearing only once complete.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { DEFAULT_GZIP_LEVEL } from '../assembly/index.js'
import { BundleReader } from '../imaging/dicom-bundle.js'
import { openStream, type Manifest, type ReceivedChunk } from '../privacy/payload/index.js'
import type { ChunkSink } from '../protocols/chunks/index.js'
import { byteLengthOf, type Pieces, type SomeBytes } from '../codec/pieces.js'
import { writeFilePieces } from '../codec/write-pieces.js'

/** Where the sealed chunks of one download are kept until decrypted. */
export interface Downloads extends ChunkSink {
  /** A chunk's bytes: as they arrived (in memory) or read back from its file. */
  read: (index: number) => Promise<SomeBytes>
  remove: () => Promise<void>
  /**
   * Present when `read` may run during the transfer: it waits for the chunk
   * to arrive, and fails once `fail` is called (the transfer failed).
   */
  fail?: (err: unknown) => void
  /**
   * `read` returns the very bytes the transfer hash-checked before `put`
   * (held in memory), so decryption need not hash them again; chunk files
   * read back from disk are hashed again.
   */
  idsChecked: boolean
  /**
   * The sealed chunks 0..count-1 of a complete download, as the node's image
   * cache takes them: the bytes, or the chunk files to move there (after
   * which `remove` has nothing of them left to remove).
   */
  keep: (count: number) => KeptChunk[]
}

/** One sealed chunk handed to the image cache (its file name is its index). */
export interface KeptChunk {
  name: string
  source: SomeBytes | { path: string, move: true }
}

/** How the decryption into the output runs. */
export interface WriteOptions {
  signal?: AbortSignal
  /** The chunks `read` returns were hash-checked against the manifest's ids, in memory since (see Downloads). */
  idsChecked?: boolean
}

/** Chunk files of one content id under the node's download folder: a resumable sink. */
export async function fileDownloads (dir: string): Promise<Downloads> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = (i: number): string => join(dir, `chunk-${i}`)
  return {
    has: async (i) => await stat(path(i)).then(() => true, () => false),
    put: async (i, bytes) => {
      const tmp = `${path(i)}.part`
      await writeFilePieces(tmp, bytes)
      await rename(tmp, path(i))
    },
    read: async (i) => new Uint8Array(await readFile(path(i))),
    remove: async () => { await rm(dir, { recursive: true, force: true }) },
    idsChecked: false,
    keep: (count) => Array.from({ length: count }, (_, i) => ({ name: String(i), source: { path: path(i), move: true as const } }))
  }
}

/**
 * A small image's chunks in memory (bounded by IN_MEMORY_IMAGE_BYTES plus one
 * chunk per source in flight). Read while the transfer runs: a read waits
 * for its chunk, and each chunk is let go once read, unless `keep` (the
 * chunks are then held until the download is done with, for `keep()`).
 */
export function memoryDownloads (options: { keep?: boolean } = {}): Downloads {
  const chunks = new Map<number, Pieces>()
  /** Every chunk put, when kept for the image cache. */
  const kept = options.keep === true ? new Map<number, Pieces>() : undefined
  /** Every chunk put, read or not: a second transfer skips them. */
  const received = new Set<number>()
  const waiting = new Map<number, { resolve: (b: Pieces) => void, reject: (e: unknown) => void }>()
  let failure: { err: unknown } | undefined
  return {
    has: async (i) => received.has(i),
    put: async (i, bytes) => {
      received.add(i)
      kept?.set(i, bytes)
      const reader = waiting.get(i)
      if (reader === undefined) { chunks.set(i, bytes); return }
      waiting.delete(i)
      reader.resolve(bytes)
    },
    read: async (i) => {
      const bytes = chunks.get(i)
      if (bytes !== undefined) {
        chunks.delete(i)
        return bytes
      }
      if (failure !== undefined) throw failure.err
      return await new Promise<Pieces>((resolve, reject) => { waiting.set(i, { resolve, reject }) })
    },
    fail: (err) => {
      failure = { err }
      for (const w of waiting.values()) w.reject(err)
      waiting.clear()
    },
    remove: async () => { chunks.clear(); kept?.clear() },
    idsChecked: true,
    keep: (count) => Array.from({ length: count }, (_, i) => {
      const bytes = kept?.get(i)
      if (bytes === undefined) throw new Error(`chunk ${i} was not kept`)
      return { name: String(i), source: bytes }
    })
  }
}

/** The sealed chunks of a download, in order, as `openStream` reads them. */
async function * sealedChunks (read: (index: number) => Promise<SomeBytes>, manifest: Manifest, idChecked: boolean): AsyncGenerator<ReceivedChunk> {
  for (let index = 0; index < manifest.chunks.length; index++) {
    yield { index, id: (manifest.chunks[index] as { id: Uint8Array }).id, bytes: await read(index), idChecked }
  }
}

function openChunks (read: (index: number) => Promise<SomeBytes>, manifest: Manifest, dataKey: Uint8Array, options: WriteOptions): AsyncGenerator<Uint8Array> {
  return openStream(sealedChunks(read, manifest, options.idsChecked === true), dataKey, manifest, options.signal === undefined ? {} : { signal: options.signal })
}

/** Decrypts the chunks in order and unpacks the DICOM bundle into a new folder `out` (appears only when complete). */
export async function writeDecryptedDicom (read: (index: number) => Promise<SomeBytes>, manifest: Manifest, dataKey: Uint8Array, out: string, options: WriteOptions = {}): Promise<number> {
  const tmp = `${out}.${randomBytes(6).toString('hex')}.part`
  await mkdir(tmp, { mode: 0o700 })
  let total = 0
  try {
    const reader = new BundleReader()
    let n = 0
    for await (const piece of openChunks(read, manifest, dataKey, options)) {
      total += piece.byteLength
      for (const object of reader.push(piece)) {
        await writeFile(join(tmp, `IM${String(++n).padStart(5, '0')}.dcm`), object, { mode: 0o600 })
      }
    }
    reader.end()
    await rename(tmp, out)
    return total
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}

/** Decrypts the chunks in order into `out` (gzip-compressed when it ends in `.gz`); the file appears only when complete. */
export async function writeDecrypted (read: (index: number) => Promise<SomeBytes>, manifest: Manifest, dataKey: Uint8Array, out: string, options: WriteOptions = {}): Promise<number> {
  return await writePlaintext(openChunks(read, manifest, dataKey, options), out)
}

/** Writes plaintext pieces, in order, into `out` (gzip-compressed when it ends in `.gz`); the file appears only when complete. */
export async function writePlaintext (pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, out: string): Promise<number> {
  let total = 0
  async function * plain (): AsyncGenerator<Uint8Array> {
    for await (const piece of pieces) {
      total += piece.byteLength
      yield piece
    }
  }
  const tmp = `${out}.${randomBytes(6).toString('hex')}.part`
  const gzip = /\.gz$/i.test(out)
  try {
    if (Array.isArray(pieces) && !gzip) {
      // All in memory already: one gathered write.
      await writeFilePieces(tmp, pieces as Uint8Array[])
      await rename(tmp, out)
      return byteLengthOf(pieces as Uint8Array[])
    }
    const file = createWriteStream(tmp, { mode: 0o600 })
    const steps = gzip
      ? pipeline(Readable.from(plain()), createGzip({ level: DEFAULT_GZIP_LEVEL }), file)
      : pipeline(Readable.from(plain()), file)
    await steps
    await rename(tmp, out)
    return total
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
