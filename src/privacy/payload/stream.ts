/**
 * Streaming seal and open with bounded memory: one chunk at a time. Sealing
 * feeds the source's pieces into the chunk's cipher (large pieces directly,
 * small ones gathered first) and hands each sealed chunk on as soon as it is
 * complete; opening
 * checks, decrypts and hands on one chunk at a time. Memory is the chunk
 * being worked on plus whatever the consumer keeps.
 */
import { DIRECT_UPDATE_BYTES, HASH_BYTES, STAGE_BYTES } from './constants.js'
import { ChunkIdMismatchError, ChunkOrderError, PayloadParameterError, PayloadSizeError, TruncatedPayloadError } from './errors.js'
import { ChunkCipher, chunkId } from './cipher.js'
import type { ChunkSealing } from './cipher.js'
import { checkLayout, newLayout } from './layout.js'
import type { LayoutOptions, PayloadLayout } from './layout.js'
import { equalBytes } from './bytes.js'

/** One sealed chunk: its position, its id (SHA-256 of `bytes`) and ciphertext ‖ tag. */
export interface SealedChunk {
  index: number
  id: Uint8Array
  bytes: Uint8Array
}

/** What a manifest lists per chunk. */
export interface ChunkRef {
  id: Uint8Array
  /** Sealed size in bytes (plaintext + 16-byte tag). */
  size: number
}

/** A layout plus, optionally, the chunk list a signed manifest vouches for. A `Manifest` is one. */
export interface PayloadDescriptor extends PayloadLayout {
  chunks?: ChunkRef[]
}

export type Source<T> = AsyncIterable<T> | Iterable<T>

export interface PayloadProgress {
  chunks: number
  totalChunks: number
  bytes: number
  totalBytes: number
}

export interface StreamOptions {
  signal?: AbortSignal
  /** Called after each chunk is handed to the consumer. */
  onProgress?: (progress: PayloadProgress) => void
}

export interface SealOptions extends LayoutOptions, StreamOptions {}

export interface Sealer {
  /** Fixed before the first chunk: the manifest needs it. */
  layout: PayloadLayout
  chunks: AsyncGenerator<SealedChunk, void, undefined>
  /** Filled as chunks are yielded; complete once `chunks` is done. */
  refs: ChunkRef[]
}

async function * sealChunks (source: Source<Uint8Array>, cipher: ChunkCipher, refs: ChunkRef[], options: StreamOptions): AsyncGenerator<SealedChunk, void, undefined> {
  const { layout, total } = cipher
  let index = 0
  let seen = 0
  let sealing: ChunkSealing | undefined
  // Small source pieces are gathered before they reach the cipher: one call per
  // 64 KiB piece costs more than copying it. Reused: the cipher reads it synchronously.
  let stage: Uint8Array | undefined
  let staged = 0
  // The id is hashed inline: on this hardware the thread pool (WebCrypto)
  // gained nothing under load and cost more CPU per byte (bench/payload.ts).
  const finish = (s: ChunkSealing): SealedChunk => {
    const bytes = s.finish()
    const chunk = { index, id: chunkId(bytes), bytes }
    refs.push({ id: chunk.id, size: bytes.length })
    index++
    options.onProgress?.({ chunks: index, totalChunks: total, bytes: Math.min(seen, index * layout.chunkSize), totalBytes: layout.totalSize })
    return chunk
  }
  for await (const piece of source) {
    options.signal?.throwIfAborted()
    if (!(piece instanceof Uint8Array)) throw new PayloadParameterError('source', 'must yield Uint8Array chunks')
    if (seen + piece.length > layout.totalSize) throw new PayloadSizeError(layout.totalSize, seen + piece.length, true)
    seen += piece.length
    for (let at = 0; at < piece.length;) {
      if (sealing === undefined) {
        options.signal?.throwIfAborted()
        sealing = cipher.begin(index)
      }
      let take = Math.min(sealing.remaining - staged, piece.length - at)
      if (staged === 0 && take >= DIRECT_UPDATE_BYTES) {
        sealing.update(piece.subarray(at, at + take))
      } else {
        stage ??= new Uint8Array(Math.min(layout.chunkSize, STAGE_BYTES))
        take = Math.min(take, stage.length - staged)
        stage.set(piece.subarray(at, at + take), staged)
        staged += take
        if (staged === stage.length || staged === sealing.remaining) {
          sealing.update(stage.subarray(0, staged))
          staged = 0
        }
      }
      at += take
      if (sealing.remaining === 0) {
        const done = sealing
        sealing = undefined
        yield finish(done)
      }
    }
  }
  if (seen !== layout.totalSize) throw new PayloadSizeError(layout.totalSize, seen)
  // An empty payload is one empty chunk, sealed as the last.
  if (layout.totalSize === 0) yield finish(cipher.begin(0))
}

/**
 * Seals a plaintext stream (an async iterable such as a `Readable`) of
 * exactly `options.totalSize` bytes. The total must be known up front: it is
 * bound into every chunk's associated data. A source of unknown length can be
 * spooled to a file first.
 */
export function sealStream (source: Source<Uint8Array>, dataKey: Uint8Array, options: SealOptions): Sealer {
  const layout = newLayout(options)
  const cipher = new ChunkCipher(dataKey, layout)
  const refs: ChunkRef[] = []
  return { layout, refs, chunks: sealChunks(source, cipher, refs, options) }
}

function checkChunkShape (chunk: SealedChunk): void {
  if (chunk === null || typeof chunk !== 'object' || !Number.isSafeInteger(chunk.index) ||
    !(chunk.id instanceof Uint8Array) || chunk.id.length !== HASH_BYTES || !(chunk.bytes instanceof Uint8Array)) {
    throw new PayloadParameterError('chunk', 'must be { index, id: 32 bytes, bytes }')
  }
}

async function * openChunks (source: Source<SealedChunk>, cipher: ChunkCipher, descriptor: PayloadDescriptor, options: StreamOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { total } = cipher
  let next = 0
  let bytes = 0
  for await (const chunk of source) {
    options.signal?.throwIfAborted()
    checkChunkShape(chunk)
    if (chunk.index !== next || next >= total) throw new ChunkOrderError(next, chunk.index, total)
    const index = next++
    const listed = descriptor.chunks?.[index]
    if (listed !== undefined && !equalBytes(listed.id, chunk.id)) throw new ChunkIdMismatchError(index, 'is not the chunk the manifest lists')
    if (!equalBytes(chunkId(chunk.bytes), chunk.id)) throw new ChunkIdMismatchError(index)
    const plain = cipher.open(index, chunk.bytes)
    bytes += plain.length
    options.onProgress?.({ chunks: next, totalChunks: total, bytes, totalBytes: descriptor.totalSize })
    yield plain
  }
  if (next < total) throw new TruncatedPayloadError(total, next)
}

/**
 * Opens sealed chunks, in order, back to plaintext pieces. Each chunk's bytes
 * must hash to its id and, when `descriptor.chunks` is given (a verified
 * manifest), the id must be the one listed at that index. Throws
 * ChunkOrderError, ChunkIdMismatchError, ChunkSizeError, ChunkAuthError or
 * TruncatedPayloadError. Every piece yielded is authentic, but the payload is
 * whole only if the stream ends without error: write to a temporary file and
 * commit at the end.
 */
export function openStream (source: Source<SealedChunk>, dataKey: Uint8Array, descriptor: PayloadDescriptor, options: StreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  checkLayout(descriptor)
  const cipher = new ChunkCipher(dataKey, descriptor)
  if (descriptor.chunks !== undefined && descriptor.chunks.length !== cipher.total) {
    throw new PayloadParameterError('chunks', `lists ${descriptor.chunks.length} chunks, layout has ${cipher.total}`)
  }
  return openChunks(source, cipher, descriptor, options)
}
