import { afterEach, describe, expect, it } from 'vitest'
import { YAMUX_MAX_STREAM_WINDOW } from '../../../src/node/libp2p.js'
import { allow, chunkNode, memoryStore, payload, type ChunkNode } from '../chunk-fixtures.js'
import { joined, type Pieces } from '../../../src/codec/pieces.js'

const nodes: ChunkNode[] = []
afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

describe('chunk fetch backpressure', () => {
  it('a slow sink holds the sender back: what is sent and not yet stored stays within two windows', async () => {
    const size = 256 * 1024
    const count = 160 // 40 MiB: five times the largest window
    const p = payload(count, size)
    const server = await chunkNode({ store: memoryStore(p), authorize: allow })
    const me = await chunkNode({ store: memoryStore(payload(0, 0)), authorize: allow })
    nodes.push(server, me)
    await me.dial(server.getMultiaddrs())
    let stored = 0
    let ahead = 0
    let busy = 0
    let concurrent = 0
    const sink = {
      has: async () => false,
      put: async (i: number, bytes: Pieces) => {
        concurrent = Math.max(concurrent, ++busy)
        ahead = Math.max(ahead, server.services.chunks.stats.chunksSent - stored)
        await new Promise(resolve => setTimeout(resolve, 4))
        expect(Buffer.compare(joined(bytes), p.chunks[i] as Uint8Array)).toBe(0)
        stored++
        busy--
      }
    }
    const result = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth: async () => new Uint8Array(1), initialBatch: count, maxBatch: count })
    expect(result.fetched).toBe(count)
    expect(stored).toBe(count)
    // One request for everything; without backpressure the server would have sent all 160 at once.
    // Paused, the muxer still holds what arrived (one window); resumed, it grants a new window at once.
    expect(ahead).toBeLessThanOrEqual(2 * YAMUX_MAX_STREAM_WINDOW / size + 4)
    expect(ahead).toBeGreaterThan(0)
    expect(concurrent).toBe(1)
  })
})
