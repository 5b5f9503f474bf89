/**
 * Streaming seal and open with bounded memory. Sealing feeds the source's
 * pieces into the chunk's cipher (large pieces directly, small ones gathered
 * first) and hands each sealed chunk on, in order, once its id is known
 * (hashed on a worker thread for large payloads: at most SEAL_AHEAD chunks
 * held); opening checks, decrypts and hands on one chunk at a time. Memory is
 * the chunks being worked on plus whatever the consumer keeps.
 */
import { availableParallelism, loadavg } from 'node:os'
import { DIRECT_UPDATE_BYTES, HASH_BYTES, HASH_WORKER_AHEAD, HASH_WORKER_MIN_CHUNK_BYTES, HASH_WORKER_MIN_CHUNKS, SEAL_AHEAD, STAGE_BYTES } from './constants.js'
import { sharedHashWorker } from './hash-worker.js'
import { ChunkIdMismatchError, ChunkOrderError, PayloadParameterError, PayloadSizeError, TruncatedPayloadError } from './errors.js'
import { ChunkCipher, chunkId } from './cipher.js'
import type { ChunkSealing } from './cipher.js'
import { checkLayout, newLayout } from './layout.js'
import type { LayoutOptions, PayloadLayout } from './layout.js'
import { equalBytes } from './bytes.js'
import { joined, type SomeBytes } from '../../codec/pieces.js'

/** One sealed chunk: its position, its id (SHA-256 of `bytes`) and ciphertext ‖ tag. */
export interface SealedChunk {
  index: number
  id: Uint8Array
  bytes: Uint8Array
  /**
   * The caller has already hashed these very bytes and found `id` (a
   * transfer checks each chunk as it arrives, and a download held in memory
   * hands over the same bytes): openStream does not hash them again. Only
   * the hash is skipped; the id must still be the one the manifest lists,
   * and AES-GCM still authenticates every byte.
   */
  idChecked?: boolean
}

/**
 * A sealed chunk to open: its bytes in one buffer, or in the pieces it
 * arrived in over the network (see codec/pieces.ts), hashed piece by piece
 * and joined only to be decrypted.
 */
export interface ReceivedChunk extends Omit<SealedChunk, 'bytes'> {
  bytes: SomeBytes
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

export interface SealOptions extends LayoutOptions, StreamOptions {
  /**
   * Hash chunk ids on a worker thread while this thread encrypts (see
   * hash-worker.ts). Default: for payloads of HASH_WORKER_MIN_CHUNKS chunks
   * of HASH_WORKER_MIN_CHUNK_BYTES or more, when a core is idle.
   */
  hashWorker?: boolean
}

export interface Sealer {
  /** Fixed before the first chunk: the manifest needs it. */
  layout: PayloadLayout
  chunks: AsyncGenerator<SealedChunk, void, undefined>
  /** Filled as chunks are yielded; complete once `chunks` is done. */
  refs: ChunkRef[]
}

/**
 * Whether a core is idle on average (1-minute load at most cores − 1). A
 * worker only pays on a free core: on a busy host it competes for the same
 * cores and moves each chunk between caches, and sealing was measured
 * slower with it (bench/payload.ts, 2 shared cores, load 6: 510 against
 * 600 MB/s inline, 2.1 against 1.7 ms of CPU per MiB).
 */
function idleCore (): boolean {
  return loadavg()[0] as number <= availableParallelism() - 1
}

/** Lets the event loop run once, so replies from the hash worker are taken in. */
async function turn (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

async function * sealChunks (source: Source<Uint8Array>, cipher: ChunkCipher, refs: ChunkRef[], options: SealOptions): AsyncGenerator<SealedChunk, void, undefined> {
  const { layout, total } = cipher
  let index = 0
  let seen = 0
  let yielded = 0
  let sealing: ChunkSealing | undefined
  // Small source pieces are gathered before they reach the cipher: one call per
  // 64 KiB piece costs more than copying it. Reused: the cipher reads it synchronously.
  let stage: Uint8Array | undefined
  let staged = 0
  // Ids of a large payload are hashed on a worker thread while this one
  // encrypts the next chunks; when the worker has HASH_WORKER_AHEAD chunks
  // waiting (its core is slower than AES-GCM, or busy), this thread hashes
  // the chunk itself. Sealed chunks wait here, in order, at most SEAL_AHEAD.
  const worker = (options.hashWorker ?? (total >= HASH_WORKER_MIN_CHUNKS && layout.chunkSize >= HASH_WORKER_MIN_CHUNK_BYTES && idleCore())) ? sharedHashWorker() : undefined
  const queue: Array<{ ready?: SealedChunk, wait: Promise<SealedChunk> }> = []
  const enqueue = (s: ChunkSealing): void => {
    const bytes = s.finish()
    const at = index++
    if (worker !== undefined && worker.pending < HASH_WORKER_AHEAD) {
      const entry: { ready?: SealedChunk, wait: Promise<SealedChunk> } = {
        wait: worker.hash(bytes).then(r => {
          entry.ready = { index: at, id: r.id, bytes: r.bytes }
          return entry.ready
        })
      }
      entry.wait.catch(() => {})
      queue.push(entry)
    } else {
      const ready = { index: at, id: chunkId(bytes), bytes }
      queue.push({ ready, wait: Promise.resolve(ready) })
    }
  }
  const emit = (chunk: SealedChunk): SealedChunk => {
    refs.push({ id: chunk.id, size: chunk.bytes.length })
    yielded++
    options.onProgress?.({ chunks: yielded, totalChunks: total, bytes: Math.min(seen, yielded * layout.chunkSize), totalBytes: layout.totalSize })
    return chunk
  }
  /** Chunks whose id is known, in order; waits for the oldest when SEAL_AHEAD are held. */
  async function * ready (): AsyncGenerator<SealedChunk, void, undefined> {
    if (worker !== undefined && worker.pending > 0) await turn()
    for (let head = queue[0]; head !== undefined; head = queue[0]) {
      if (head.ready === undefined && queue.length < SEAL_AHEAD) return
      queue.shift()
      yield emit(head.ready ?? await head.wait)
    }
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
        enqueue(done)
        yield * ready()
      }
    }
  }
  if (seen !== layout.totalSize) throw new PayloadSizeError(layout.totalSize, seen)
  // An empty payload is one empty chunk, sealed as the last.
  if (layout.totalSize === 0) enqueue(cipher.begin(0))
  for (const entry of queue.splice(0)) yield emit(entry.ready ?? await entry.wait)
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

function isBytes (bytes: unknown): bytes is SomeBytes {
  return bytes instanceof Uint8Array || (Array.isArray(bytes) && bytes.every(p => p instanceof Uint8Array))
}

function checkChunkShape (chunk: ReceivedChunk): void {
  if (chunk === null || typeof chunk !== 'object' || !Number.isSafeInteger(chunk.index) ||
    !(chunk.id instanceof Uint8Array) || chunk.id.length !== HASH_BYTES || !isBytes(chunk.bytes)) {
    throw new PayloadParameterError('chunk', 'must be { index, id: 32 bytes, bytes }')
  }
}

async function * openChunks (source: Source<ReceivedChunk>, cipher: ChunkCipher, descriptor: PayloadDescriptor, options: StreamOptions): AsyncGenerator<Uint8Array, void, undefined> {
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
    if (chunk.idChecked !== true && !equalBytes(chunkId(chunk.bytes), chunk.id)) throw new ChunkIdMismatchError(index)
    // Decrypted in one call into one buffer: a chunk held in pieces is joined first (one copy), which
    // costs less than a decryption and an output write per piece (a 1 MiB chunk arrives in 16-64).
    const plain = cipher.open(index, joined(chunk.bytes))
    bytes += plain.length
    options.onProgress?.({ chunks: next, totalChunks: total, bytes, totalBytes: descriptor.totalSize })
    yield plain
  }
  if (next < total) throw new TruncatedPayloadError(total, next)
}

/**
 * Opens sealed chunks, in order, back to plaintext pieces. Each chunk's bytes
 * must hash to its id (not hashed again when the chunk says `idChecked`)
 * and, when `descriptor.chunks` is given (a verified manifest), the id must
 * be the one listed at that index. Throws
 * ChunkOrderError, ChunkIdMismatchError, ChunkSizeError, ChunkAuthError or
 * TruncatedPayloadError. Every piece yielded is authentic, but the payload is
 * whole only if the stream ends without error: write to a temporary file and
 * commit at the end.
 */
export function openStream (source: Source<ReceivedChunk>, dataKey: Uint8Array, descriptor: PayloadDescriptor, options: StreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  checkLayout(descriptor)
  const cipher = new ChunkCipher(dataKey, descriptor)
  if (descriptor.chunks !== undefined && descriptor.chunks.length !== cipher.total) {
    throw new PayloadParameterError('chunks', `lists ${descriptor.chunks.length} chunks, layout has ${cipher.total}`)
  }
  return openChunks(source, cipher, descriptor, options)
}
