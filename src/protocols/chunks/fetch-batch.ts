/**
 * One request to one source: ask for a batch of chunks, verify each chunk's
 * hash as it arrives, hand it to the sink with the stream paused (so a slow
 * disk slows the sender: backpressure end to end), and return what the source
 * did not hold.
 */
import { createHash } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { ProtocolError, statusError } from '../status.js'
import { MAX_CHUNK_BYTES, MAX_READ_BUFFER_BYTES } from './constants.js'
import { CorruptChunkError, StalledSourceError } from './errors.js'
import { decodeChunk, decodeEnd, decodeStatus, encodeRequest, FRAME_CHUNK, FRAME_END } from './frames.js'

export interface BatchInit {
  stream: Stream
  auth: Uint8Array
  contentId: Uint8Array
  /** Expected SHA-256 of each requested chunk, by index. */
  expected: Map<number, Uint8Array>
  stallMs: number
  signal?: AbortSignal
  onChunk: (index: number, bytes: Uint8Array) => Promise<void>
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}

/** Returns the indexes the source did not hold. Throws on any failure; the caller aborts the stream. */
export async function fetchBatch (init: BatchInit): Promise<number[]> {
  const { stream, stallMs } = init
  const lp = lpStream(stream, { maxDataLength: MAX_CHUNK_BYTES + 5, maxBufferSize: MAX_READ_BUFFER_BYTES })
  const read = async (): Promise<Uint8Array> => {
    const signals = [AbortSignal.timeout(stallMs), ...(init.signal === undefined ? [] : [init.signal])]
    try {
      return (await lp.read({ signal: AbortSignal.any(signals) })).subarray()
    } catch (err) {
      if (init.signal?.aborted !== true && (err as Error).name === 'AbortError') throw new StalledSourceError(stallMs)
      throw err
    }
  }
  await lp.write(encodeRequest({ auth: init.auth, contentId: init.contentId, indexes: [...init.expected.keys()] }), { signal: init.signal })
  const status = decodeStatus(await read())
  if (status.status !== 'OK') throw statusError(status.status, status.reason)
  const received = new Set<number>()
  for (;;) {
    const frame = await read()
    if (frame[0] === FRAME_END) {
      const missing = decodeEnd(frame)
      for (const index of init.expected.keys()) {
        if (!received.has(index) && !missing.includes(index)) throw new ProtocolError(`chunk ${index} neither sent nor reported missing`)
      }
      await stream.close({ signal: init.signal }).catch(() => {})
      return missing.filter(i => init.expected.has(i) && !received.has(i))
    }
    if (frame[0] !== FRAME_CHUNK) throw new ProtocolError('unexpected frame')
    const { index, bytes } = decodeChunk(frame)
    const want = init.expected.get(index)
    if (want === undefined || received.has(index)) throw new ProtocolError(`unrequested chunk ${index}`)
    if (!sameBytes(createHash('sha256').update(bytes).digest(), want)) throw new CorruptChunkError(index)
    received.add(index)
    // A sink that keeps up costs nothing. One that does not gets the stream
    // paused while it works: paused, the muxer withholds window updates and
    // the sender waits (backpressure end to end). (Once the sender has
    // finished, the stream is closing and cannot pause.)
    const put = init.onChunk(index, bytes)
    const kept = await Promise.race([put.then(() => true), new Promise<boolean>(resolve => { setImmediate(() => { resolve(false) }) })])
    if (!kept) {
      const paused = stream.readStatus === 'readable'
      if (paused) stream.pause()
      try {
        await put
      } finally {
        if (paused && stream.readStatus === 'paused') stream.resume()
      }
    }
  }
}
