/**
 * Multi-source fetch: the chunks of one content id, from the master and its
 * replicas at once. Each source pulls batches from a shared queue, so faster
 * sources take more; a batch answered quickly doubles the source's next batch.
 * A source that stalls, fails, or sends a chunk whose hash is wrong is dropped
 * for this transfer and its unfinished chunks go back to the queue for the
 * others; sources found later (`moreSources`) join a transfer still running;
 * a source that answers BUSY is asked again after a growing pause
 * (BUSY_RETRIES times) before it is dropped. Chunks the sink already holds
 * are not fetched again (resume).
 * Memory: per source, what the muxer window lets in (see fetch-batch.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { byteLengthOf } from '../../codec/pieces.js'
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import { BUSY_BACKOFF_MS, BUSY_BACKOFF_MAX_MS, BUSY_RETRIES, FAST_BATCH_MS, INITIAL_BATCH, LANES_PER_SOURCE, MAX_BATCH, STALL_TIMEOUT_MS } from './constants.js'
import { MissingChunksError } from './errors.js'
import { fetchBatch } from './fetch-batch.js'
import type { ChunkFetchEvent, ChunkRef, ChunkSink } from './types.js'

export interface FetchChunksOptions {
  contentId: Uint8Array
  chunks: ChunkRef[]
  sources: PeerId[]
  /**
   * Sources found while the transfer runs (a DHT lookup of the replicas):
   * those not already in `sources` join if chunks are still wanted. The
   * transfer never waits for them unless every other source failed.
   */
  moreSources?: Promise<PeerId[]>
  sink: ChunkSink
  /** Opens a `/dm2/chunks/1.0.0` stream to a source. */
  open: (peer: PeerId, signal: AbortSignal) => Promise<Stream>
  /** Runs one batch (its stream's whole life) when the peer has a free stream slot; default: at once. */
  slot?: <T>(peer: PeerId, job: () => Promise<T>, signal: AbortSignal) => Promise<T>
  /** The requester's invocation + certificate chain for one source (audience = that source). */
  auth: (peer: PeerId) => Promise<Uint8Array>
  log: Logger
  signal?: AbortSignal
  onProgress?: (event: ChunkFetchEvent) => void
  stallMs?: number
  initialBatch?: number
  maxBatch?: number
  /** Batches in flight per source (default LANES_PER_SOURCE). */
  lanes?: number
  /** How many BUSY answers in a row a source may give before it is dropped (default BUSY_RETRIES). */
  busyRetries?: number
}

export type DropReason = Extract<ChunkFetchEvent, { type: 'source-dropped' }>['reason']

export interface SourceReport {
  peer: string
  chunks: number
  bytes: number
  /** Why the source was dropped for this transfer, if it was. */
  dropped?: DropReason
}

export interface FetchChunksResult {
  fetched: number
  /** Already held by the sink before the fetch. */
  skipped: number
  sources: SourceReport[]
}

function dropReason (err: Error): DropReason {
  switch (err.name) {
    case 'CorruptChunkError': return 'corrupt'
    case 'StalledSourceError': return 'stalled'
    case 'DeniedError': return 'denied'
    case 'BusyError': return 'busy'
    case 'NotFoundError': return 'not-found'
    default: return 'failed'
  }
}

export async function fetchChunks (options: FetchChunksOptions): Promise<FetchChunksResult> {
  const { sink, log } = options
  const signal = options.signal ?? new AbortController().signal
  const ids = new Map(options.chunks.map(c => [c.index, c.id]))
  const pending: number[] = []
  let skipped = 0
  for (const c of options.chunks) {
    if (await sink.has(c.index)) skipped++
    else pending.push(c.index)
  }
  const inFlight = new Set<number>()
  let changed!: () => void
  let change = new Promise<void>(resolve => { changed = resolve })
  const notify = (): void => {
    const wake = changed
    change = new Promise<void>(resolve => { changed = resolve })
    wake()
  }
  const onAbort = (): void => { notify() }
  signal.addEventListener('abort', onAbort)

  const reports: SourceReport[] = []

  /** One lane of a source: batches on one stream after another. */
  const worker = async (peer: PeerId, report: SourceReport, lacks: Set<number>): Promise<void> => {
    let batchSize = options.initialBatch ?? INITIAL_BATCH
    let busy = 0
    const slot = options.slot ?? (async <T>(_peer: PeerId, job: () => Promise<T>): Promise<T> => await job())
    for (;;) {
      signal.throwIfAborted()
      // Another lane of this source dropped it.
      if (report.dropped !== undefined) return
      const batch: number[] = []
      for (let i = 0; i < pending.length && batch.length < batchSize;) {
        const index = pending[i] as number
        if (lacks.has(index)) { i++; continue }
        pending.splice(i, 1)
        batch.push(index)
      }
      if (batch.length === 0) {
        if (pending.length === 0 && inFlight.size === 0) return
        // Nothing for us now; if nothing is in flight either, we can never help.
        if (inFlight.size === 0) return
        await change
        continue
      }
      for (const i of batch) inFlight.add(i)
      const done = new Set<number>()
      const started = performance.now()
      let stream: Stream | undefined
      let retryAfter: number | undefined
      try {
        const missing = await slot(peer, async () => {
          stream = await options.open(peer, signal)
          return await fetchBatch({
            stream,
            auth: await options.auth(peer),
            contentId: options.contentId,
            expected: new Map(batch.map(i => [i, ids.get(i) as Uint8Array])),
            stallMs: options.stallMs ?? STALL_TIMEOUT_MS,
            signal,
            onChunk: async (index, bytes) => {
              await sink.put(index, bytes)
              done.add(index)
              report.chunks++
              const size = byteLengthOf(bytes)
              report.bytes += size
              options.onProgress?.({ type: 'chunk', index, bytes: size, from: peer })
            }
          })
        }, signal)
        busy = 0
        for (const i of missing) lacks.add(i)
        const elapsed = performance.now() - started
        if (elapsed < FAST_BATCH_MS) batchSize = Math.min(batchSize * 2, options.maxBatch ?? MAX_BATCH)
      } catch (err) {
        stream?.abort(err as Error)
        if (signal.aborted) throw signal.reason
        if ((err as Error).name === 'BusyError' && busy < (options.busyRetries ?? BUSY_RETRIES)) {
          // Over capacity now, not failing: come back later, with jitter so that waiters spread out.
          retryAfter = Math.min(BUSY_BACKOFF_MS * 2 ** busy, BUSY_BACKOFF_MAX_MS) * (0.5 + Math.random())
          busy++
        } else {
          if (report.dropped !== undefined) return
          report.dropped = dropReason(err as Error)
          log('dropping source %p for this transfer: %s', peer, (err as Error).name)
          options.onProgress?.({ type: 'source-dropped', peer, reason: report.dropped })
          return
        }
      } finally {
        // What this source did not deliver goes back to the front of the queue.
        pending.unshift(...batch.filter(i => !done.has(i)))
        for (const i of batch) inFlight.delete(i)
        notify()
      }
      if (retryAfter !== undefined) await sleep(retryAfter, undefined, { signal })
    }
  }

  const running: Array<Promise<void>> = []
  const start = (peer: PeerId): void => {
    if (reports.some(r => r.peer === peer.toString())) return
    const report: SourceReport = { peer: peer.toString(), chunks: 0, bytes: 0 }
    reports.push(report)
    const lacks = new Set<number>()
    for (let lane = 0; lane < (options.lanes ?? LANES_PER_SOURCE); lane++) {
      const run = worker(peer, report, lacks).finally(notify)
      run.catch(() => {})
      running.push(run)
    }
  }
  for (const peer of options.sources) start(peer)
  // Late sources join only while there is something left to fetch.
  const late = options.moreSources?.then(peers => {
    if (!signal.aborted && pending.length + inFlight.size > 0) for (const peer of peers) start(peer)
  }, () => {})
  try {
    let waited = 0
    for (let lateJoined = late === undefined; ;) {
      while (waited < running.length) {
        const now = running.slice(waited)
        waited = running.length
        await Promise.all(now)
      }
      // Every source so far is done: if chunks are missing, the late ones may still bring them.
      if (pending.length === 0 || lateJoined || signal.aborted) break
      await late
      lateJoined = true
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  signal.throwIfAborted()
  if (pending.length > 0) throw new MissingChunksError([...pending].sort((a, b) => a - b))
  return { fetched: options.chunks.length - skipped, skipped, sources: reports }
}
