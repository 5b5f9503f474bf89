/**
 * The body of a chunk response, written on a length-prefixed stream: STATUS
 * OK, each chunk the reader holds (one read ahead, so the next chunk comes
 * off the disk while this one is sent), then END with the indexes it lacks.
 * Shared by the chunk server and by the image service, which sends the
 * chunks of a version it has just prepared with its answer.
 */
import type { LengthPrefixedStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../status.js'
import { MAX_CHUNK_BYTES } from './constants.js'
import { chunkHeader, encodeEnd, encodeStatus } from './frames.js'
import type { ChunkReader } from './types.js'

export interface SentChunks {
  chunks: number
  bytes: number
  missing: number[]
}

/**
 * Each write may take at most `timeoutMs` (a reader that stops reading stops
 * us: lp.write waits for the muxer); `onSent` follows each chunk written.
 */
export async function sendChunks (lp: LengthPrefixedStream, reader: ChunkReader, indexes: readonly number[], timeoutMs: number, onSent?: (bytes: number) => void): Promise<SentChunks> {
  const sent: SentChunks = { chunks: 0, bytes: 0, missing: [] }
  await lp.write(encodeStatus({ status: 'OK' }), { signal: AbortSignal.timeout(timeoutMs) })
  let next = indexes.length > 0 ? reader.read(indexes[0] as number) : undefined
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i] as number
    const bytes = await next
    next = i + 1 < indexes.length ? reader.read(indexes[i + 1] as number) : undefined
    // A read ahead that fails after this loop has stopped must not go unhandled.
    next?.catch(() => {})
    if (bytes === undefined) {
      sent.missing.push(index)
      continue
    }
    if (bytes.byteLength > MAX_CHUNK_BYTES) throw new ProtocolError(`stored chunk ${index} exceeds the frame limit`)
    await lp.write(new Uint8ArrayList(chunkHeader(index), bytes), { signal: AbortSignal.timeout(timeoutMs) })
    sent.chunks++
    sent.bytes += bytes.byteLength
    onSent?.(bytes.byteLength)
  }
  await lp.write(encodeEnd(sent.missing), { signal: AbortSignal.timeout(timeoutMs) })
  return sent
}
