/** The sending side: one push frame on a fresh stream, one result frame back. */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { MAX_FRAME_BYTES } from './constants.js'
import { decodeResult, encodePush, type ResultFrame } from './frames.js'

/** Sends `notices` on `stream` and returns the peer's answer. Throws on any failure; the caller aborts the stream. */
export async function pushOnStream (stream: Stream, notices: readonly Uint8Array[], timeoutMs: number, signal?: AbortSignal): Promise<ResultFrame> {
  const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
  const deadline = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal === undefined ? [] : [signal])])
  await lp.write(encodePush(notices), { signal: deadline() })
  const result = decodeResult((await lp.read({ signal: deadline() })).subarray(), notices.length)
  await stream.close({ signal: deadline() }).catch(() => {})
  return result
}
