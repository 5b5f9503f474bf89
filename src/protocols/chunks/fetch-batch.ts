/**
 * One request to one source: ask for a batch of chunks, verify each chunk's
 * hash as it arrives, hand it to the sink, and return what the source did
 * not hold.
 *
 * The response is parsed as the muxer delivers it (ResponseParser), from the
 * stream's message events: no read loop, no per-frame promise, and each
 * chunk hashed and copied once while its bytes are still in cache. The sink
 * takes one chunk at a time. A sink that keeps up costs nothing; one that
 * does not (a chunk waits for it, or it is still busy after one event-loop
 * turn) gets the stream paused: paused, the muxer withholds window updates
 * and the sender waits (backpressure end to end). Memory: two muxer windows
 * at most (what arrived while paused, then the window granted on resume).
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Pieces } from '../../codec/pieces.js'
import { ProtocolError, statusError } from '../status.js'
import { CorruptChunkError, StalledSourceError } from './errors.js'
import { encodeRequest, lengthPrefix } from './frames.js'
import { ResponseParser } from './response-parser.js'

/** A chunk response arriving on `stream` (after a request, or with an image answer). */
export interface ReceiveInit {
  stream: Stream
  /** Expected SHA-256 of each chunk the response may carry, by index; each must be sent or reported missing. */
  expected: Map<number, Uint8Array>
  /** Longest silence from the source, except while the sink holds the stream paused. */
  stallMs: number
  signal?: AbortSignal
  /** A chunk checked against its expected hash, in the pieces it arrived in. */
  onChunk: (index: number, bytes: Pieces) => Promise<void>
}

export interface BatchInit extends ReceiveInit {
  auth: Uint8Array
  contentId: Uint8Array
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}

/** Returns the indexes the source did not hold. Throws on any failure; the caller aborts the stream. */
export async function fetchBatch (init: BatchInit): Promise<number[]> {
  const request = encodeRequest({ auth: init.auth, contentId: init.contentId, indexes: [...init.expected.keys()] })
  return await receiveChunks(init, new Uint8ArrayList(lengthPrefix(request.byteLength), request))
}

/**
 * Parses a chunk response from `stream` (sending `request` first, if given),
 * each chunk checked against its expected hash and handed to `onChunk`; then
 * closes the stream. Returns the indexes the source did not hold. Throws on
 * any failure; the caller aborts the stream.
 */
export async function receiveChunks (init: ReceiveInit, request?: Uint8ArrayList): Promise<number[]> {
  const { stream, stallMs, signal } = init
  signal?.throwIfAborted()
  const missing = await new Promise<number[]>((resolve, reject) => {
    const received = new Set<number>()
    /** Verified chunks waiting for the sink, which takes one at a time. */
    const queue: Array<[number, Pieces]> = []
    let putting = false
    let pausedBySink = false
    let ended: number[] | undefined
    let settled = false

    const finish = (err: unknown, result?: number[]): void => {
      if (settled) return
      settled = true
      clearTimeout(stall)
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('close', onClose)
      stream.removeEventListener('remoteCloseWrite', onRemoteCloseWrite)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve(result ?? [])
      else reject(err)
    }
    const stall: NodeJS.Timeout = setTimeout(function check () {
      // Silence while the sink holds the stream paused is ours, not the source's.
      if (pausedBySink) stall.refresh()
      else finish(new StalledSourceError(stallMs))
    }, stallMs)
    // A stream's resume() dispatches what it buffered before it tells the
    // muxer to send window updates again; a pause from inside that dispatch
    // would be undone by it, so it waits until resume() has returned.
    let resuming = false
    let pauseAfterResume = false
    const pause = (): void => {
      if (resuming) { pauseAfterResume = true; return }
      if (pausedBySink || settled || stream.readStatus !== 'readable') return
      pausedBySink = true
      stream.pause()
    }
    const resume = (): void => {
      if (!pausedBySink) return
      pausedBySink = false
      stall.refresh()
      if (stream.readStatus !== 'paused') return
      resuming = true
      try {
        stream.resume()
      } finally {
        resuming = false
      }
      if (pauseAfterResume) {
        pauseAfterResume = false
        if (putting) pause()
      }
    }
    const complete = (): void => {
      if (settled || ended === undefined || putting || queue.length > 0) return
      for (const index of init.expected.keys()) {
        if (!received.has(index) && !ended.includes(index)) { finish(new ProtocolError(`chunk ${index} neither sent nor reported missing`)); return }
      }
      finish(undefined, ended.filter(i => init.expected.has(i) && !received.has(i)))
    }
    const next = (): void => {
      const item = queue.shift()
      if (item === undefined || settled) {
        putting = false
        resume()
        complete()
        return
      }
      putting = true
      const put = init.onChunk(item[0], item[1])
      // A sink still busy after one turn of the event loop is falling behind.
      const check = setImmediate(() => { if (putting) pause() })
      put.then(() => { clearImmediate(check); next() }, err => { clearImmediate(check); finish(err) })
    }
    const parser = new ResponseParser(init.expected, {
      status: s => { if (s.status !== 'OK') finish(statusError(s.status, s.reason)) },
      chunk: (index, bytes, sha256) => {
        if (!sameBytes(sha256, init.expected.get(index) as Uint8Array)) { finish(new CorruptChunkError(index)); return }
        received.add(index)
        queue.push([index, bytes])
        if (!putting) next()
        else pause()
      },
      end: m => { ended = m; complete() }
    })
    const onMessage = (evt: StreamMessageEvent): void => {
      if (settled) return
      stall.refresh()
      try {
        parser.push(evt.data)
      } catch (err) {
        finish(err)
      }
    }
    const truncated = (): void => {
      // Data still buffered behind a pause is delivered on resume; only then is a missing END a fault.
      if (!settled && !parser.ended && stream.readBufferLength === 0) finish(new ProtocolError('stream ended before the end frame'))
    }
    const onRemoteCloseWrite = (): void => { queueMicrotask(truncated) }
    const onClose = (evt: StreamCloseEvent): void => {
      if (evt.error !== undefined) finish(evt.error)
      else truncated()
    }
    const onAbort = (): void => { finish(signal?.reason) }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', onClose)
    stream.addEventListener('remoteCloseWrite', onRemoteCloseWrite)
    signal?.addEventListener('abort', onAbort)
    // A response that was already complete when we started listening: its data is dispatched first.
    if (stream.remoteWriteStatus === 'closed') queueMicrotask(truncated)
    if (request === undefined) return
    // One small frame: queued by the stream if the muxer cannot take it yet.
    try {
      stream.send(request)
    } catch (err) {
      finish(err)
    }
  })
  await stream.close({ signal }).catch(() => {})
  return missing
}
