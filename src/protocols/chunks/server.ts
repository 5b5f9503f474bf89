/**
 * The serving side of `/dm2/chunks/1.0.0`: read one request, check access
 * before touching any data, then stream the held chunks and an END frame.
 * Any protocol violation aborts the stream; the node keeps serving others.
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { Status } from '../status.js'
import { MAX_CHUNK_BYTES, MAX_CONCURRENT_SERVES, MAX_READ_BUFFER_BYTES, MAX_SERVES_PER_PEER, MESSAGE_TIMEOUT_MS } from './constants.js'
import { decodeRequest, encodeStatus } from './frames.js'
import { sendChunks } from './send.js'
import type { ChunkAuthorizer, ChunkReader, ChunkStore } from './types.js'

export interface ChunkServerInit {
  store: ChunkStore
  authorize: ChunkAuthorizer
  log: Logger
  maxConcurrent?: number
  maxPerPeer?: number
  messageTimeoutMs?: number
}

export interface ChunkServerStats {
  served: number
  chunksSent: number
  bytesSent: number
  denied: number
  busy: number
  invalid: number
  active: number
}

export class ChunkServer {
  readonly stats: ChunkServerStats = { served: 0, chunksSent: 0, bytesSent: 0, denied: 0, busy: 0, invalid: 0, active: 0 }
  private readonly init: ChunkServerInit
  private readonly perPeer = new Map<string, number>()

  constructor (init: ChunkServerInit) {
    this.init = init
  }

  /** A libp2p stream handler. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const timeout = this.init.messageTimeoutMs ?? MESSAGE_TIMEOUT_MS
    const lp = lpStream(stream, { maxDataLength: MAX_CHUNK_BYTES + 5, maxBufferSize: MAX_READ_BUFFER_BYTES })
    const reply = async (status: Exclude<Status, 'OK'>, reason?: string): Promise<void> => {
      await lp.write(encodeStatus(reason === undefined ? { status } : { status, reason }), { signal: AbortSignal.timeout(timeout) })
      await stream.close({ signal: AbortSignal.timeout(timeout) })
    }
    let counted = false
    let reader: ChunkReader | undefined
    try {
      const frame = await lp.read({ signal: AbortSignal.timeout(timeout) })
      let request
      try {
        request = decodeRequest(frame.subarray())
      } catch (err) {
        this.stats.invalid++
        this.init.log('invalid chunk request from %p: %s', connection.remotePeer, (err as Error).message)
        await reply('INVALID')
        return
      }
      if (this.stats.active >= (this.init.maxConcurrent ?? MAX_CONCURRENT_SERVES) ||
          (this.perPeer.get(peer) ?? 0) >= (this.init.maxPerPeer ?? MAX_SERVES_PER_PEER)) {
        this.stats.busy++
        await reply('BUSY')
        return
      }
      counted = true
      this.stats.active++
      this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1)

      // Access first: nothing is read before the decision.
      const decision = await this.init.authorize({ ...request, remotePeer: connection.remotePeer })
      if (!decision.allow) {
        this.stats.denied++
        await reply('DENIED', decision.reason)
        return
      }
      reader = await openReader(this.init.store, request.contentId)
      if (reader === undefined) {
        await reply('NOT_FOUND')
        return
      }
      await sendChunks(lp, reader, request.indexes, timeout, bytes => {
        this.stats.chunksSent++
        this.stats.bytesSent += bytes
      })
      await stream.close({ signal: AbortSignal.timeout(timeout) })
      this.stats.served++
    } catch (err) {
      this.init.log('chunk stream from %p aborted: %s', connection.remotePeer, (err as Error).name)
      stream.abort(err as Error)
    } finally {
      reader?.close()
      if (counted) {
        this.stats.active--
        const n = (this.perPeer.get(peer) ?? 1) - 1
        if (n <= 0) this.perPeer.delete(peer)
        else this.perPeer.set(peer, n)
      }
    }
  }
}

/** The store's reader for a content id, or one made of `has` and `read` for a store without `open`. */
export async function openReader (store: ChunkStore, contentId: Uint8Array): Promise<ChunkReader | undefined> {
  if (store.open !== undefined) return await store.open(contentId)
  if (!await store.has(contentId)) return undefined
  return { read: async (index) => await store.read(contentId, index), close: () => {} }
}
