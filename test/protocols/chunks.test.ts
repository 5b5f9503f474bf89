import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { CHUNKS_PROTOCOL } from '../../src/protocols/chunks/index.js'
import { encodeRequest } from '../../src/protocols/chunks/frames.js'
import { decodeStatus } from '../../src/protocols/chunks/frames.js'
import type { ChunkAuthorizer, ChunkStore } from '../../src/protocols/chunks/types.js'
import { waitFor } from '../helpers/wait.js'
import { allow, chunkNode, memorySink, memoryStore, payload, type ChunkNode, type Payload } from './chunk-fixtures.js'

const nodes: ChunkNode[] = []
afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

async function serving (p: Payload, opts: Parameters<typeof memoryStore>[1] = {}, authorize: ChunkAuthorizer = allow, extra = {}): Promise<ChunkNode & { store: ReturnType<typeof memoryStore> }> {
  const store = memoryStore(p, opts)
  const node = await chunkNode({ store, authorize, ...extra })
  nodes.push(node)
  return Object.assign(node, { store })
}

async function client (...servers: ChunkNode[]): Promise<ChunkNode> {
  const empty = payload(0, 0)
  const node = await chunkNode({ store: memoryStore(empty), authorize: allow })
  nodes.push(node)
  for (const s of servers) await node.dial(s.getMultiaddrs())
  return node
}

function expectSame (p: Payload, sink: ReturnType<typeof memorySink>): void {
  expect(sink.chunks.size).toBe(p.chunks.length)
  p.chunks.forEach((c, i) => { expect(Buffer.compare(sink.chunks.get(i) ?? new Uint8Array(), c)).toBe(0) })
}

const auth = async (): Promise<Uint8Array> => new Uint8Array([1, 2, 3])

describe('chunk protocol over real TCP', () => {
  it('fetches every chunk from one source, verified', async () => {
    const p = payload(20, 64 * 1024)
    const server = await serving(p)
    const me = await client(server)
    const sink = memorySink()
    const result = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth })
    expect(result.fetched).toBe(20)
    expectSame(p, sink)
    expect(server.services.chunks.stats.chunksSent).toBe(20)
  })

  it('spreads the work over several sources', async () => {
    const p = payload(48, 32 * 1024)
    const servers = await Promise.all([serving(p, { delayMs: 2 }), serving(p, { delayMs: 2 }), serving(p, { delayMs: 2 })])
    const me = await client(...servers)
    const sink = memorySink()
    const result = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: servers.map(s => s.peerId), sink, auth })
    expectSame(p, sink)
    for (const s of result.sources) expect(s.chunks).toBeGreaterThan(0)
    expect(result.sources.reduce((n, s) => n + s.chunks, 0)).toBe(48)
  })

  it('sources found later join a transfer still running; a lookup that ends after it changes nothing', async () => {
    const p = payload(48, 32 * 1024)
    const servers = await Promise.all([serving(p, { delayMs: 10 }), serving(p, { delayMs: 10 })])
    const me = await client(...servers)
    const [first, second] = servers as [ChunkNode, ChunkNode]
    let found!: (peers: Array<typeof first.peerId>) => void
    const moreSources = new Promise<Array<typeof first.peerId>>(resolve => { found = resolve })
    const sink = memorySink()
    const result = await me.services.chunks.fetch({
      contentId: p.contentId,
      chunks: p.refs,
      sources: [first.peerId],
      moreSources,
      sink,
      auth,
      onProgress: (e) => { if (e.type === 'chunk' && sink.chunks.size === 4) found([first.peerId, second.peerId]) }
    })
    expectSame(p, sink)
    expect(result.sources.map(s => s.peer)).toEqual([first.peerId.toString(), second.peerId.toString()])
    expect(result.sources.every(s => s.chunks > 0)).toBe(true)

    // Found only once everything is here: nobody joins, nothing waits for the lookup.
    const quick = payload(4, 16 * 1024)
    const alone = await serving(quick)
    const other = await serving(quick)
    const me2 = await client(alone, other)
    const sink2 = memorySink()
    const never = new Promise<Array<typeof first.peerId>>(() => {})
    const done = await me2.services.chunks.fetch({ contentId: quick.contentId, chunks: quick.refs, sources: [alone.peerId], moreSources: never, sink: sink2, auth })
    expect(done.sources.map(s => s.peer)).toEqual([alone.peerId.toString()])
    expectSame(quick, sink2)
  })

  it('when every first source fails, the transfer waits for the late ones and completes from them', async () => {
    const p = payload(12, 32 * 1024)
    const broken = await serving(p, { tamper: (index, bytes) => index === 0 ? new Uint8Array(bytes.length) : bytes })
    const good = await serving(p)
    const me = await client(broken, good)
    const sink = memorySink()
    const later = new Promise<Array<typeof good.peerId>>(resolve => { setTimeout(() => { resolve([good.peerId]) }, 300) })
    const result = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [broken.peerId], moreSources: later, sink, auth })
    expectSame(p, sink)
    expect(result.sources.find(s => s.peer === broken.peerId.toString())?.dropped).toBe('corrupt')
    expect(result.sources.find(s => s.peer === good.peerId.toString())?.chunks).toBeGreaterThan(0)
  })

  it('completes with identical bytes when a source dies mid-transfer', async () => {
    const p = payload(40, 64 * 1024)
    const doomed = await serving(p, { delayMs: 15 })
    const healthy = await serving(p, { delayMs: 15 })
    const me = await client(doomed, healthy)
    const sink = memorySink()
    let killed = false
    const result = await me.services.chunks.fetch({
      contentId: p.contentId,
      chunks: p.refs,
      sources: [doomed.peerId, healthy.peerId],
      sink,
      auth,
      onProgress: (e) => {
        if (!killed && e.type === 'chunk' && e.from.equals(doomed.peerId)) {
          killed = true
          Promise.resolve(doomed.stop()).catch(() => {})
        }
      }
    })
    expect(killed).toBe(true)
    expectSame(p, sink)
    expect(result.sources.find(s => s.peer === doomed.peerId.toString())?.dropped).toBeDefined()
  })

  it('drops a source that serves a corrupted chunk and gets that chunk elsewhere', async () => {
    const p = payload(16, 16 * 1024)
    const liar = await serving(p, { tamper: (i, b) => { if (i !== 3) return b; const c = new Uint8Array(b); c[0] = (c[0] ?? 0) ^ 1; return c } })
    const honest = await serving(p, { delayMs: 5 })
    const me = await client(liar, honest)
    const sink = memorySink()
    const result = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [liar.peerId, honest.peerId], sink, auth, initialBatch: 16 })
    expectSame(p, sink)
    expect(result.sources.find(s => s.peer === liar.peerId.toString())?.dropped).toBe('corrupt')
  })

  it('a replica lacking some chunks leaves them to the others', async () => {
    const p = payload(12, 8 * 1024)
    const partial = await serving(p, { only: new Set([0, 1, 2, 3]) })
    const full = await serving(p, { delayMs: 20 })
    const me = await client(partial, full)
    const sink = memorySink()
    await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [partial.peerId, full.peerId], sink, auth })
    expectSame(p, sink)
  })

  it('resumes: chunks already held are not fetched again', async () => {
    const p = payload(10, 8 * 1024)
    const server = await serving(p)
    const me = await client(server)
    const sink = memorySink()
    for (let i = 0; i < 6; i++) await sink.put(i, [p.chunks[i] as Uint8Array])
    const result = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth })
    expect(result).toMatchObject({ fetched: 4, skipped: 6 })
    expect(server.store.reads).toBe(4)
    expectSame(p, sink)
  })

  it('a request without access gets DENIED and no chunk is read', async () => {
    const p = payload(4, 1024)
    const server = await serving(p, {}, async () => ({ allow: false, reason: 'EXPIRED' }))
    const me = await client(server)
    const sink = memorySink()
    const err = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth }).catch(e => e)
    expect(err.name).toBe('MissingChunksError')
    expect(err.missing).toEqual([0, 1, 2, 3])
    expect(server.store.reads).toBe(0)
    expect(sink.chunks.size).toBe(0)
    expect(server.services.chunks.stats.denied).toBe(1)
  })

  it('answers BUSY beyond its capacity; a requester not willing to wait drops the source', async () => {
    const p = payload(8, 1024)
    const server = await serving(p, { delayMs: 200 }, allow, { maxConcurrent: 1 })
    const me = await client(server)
    const events: string[] = []
    const slow = me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink: memorySink(), auth })
    await new Promise(resolve => setTimeout(resolve, 100))
    const busy = await me.services.chunks.fetch({
      contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink: memorySink(), auth, busyRetries: 0, onProgress: e => { if (e.type === 'source-dropped') events.push(e.reason) }
    }).catch(e => e)
    expect(busy.name).toBe('MissingChunksError')
    expect(events).toEqual(['busy'])
    await slow
  })

  it('a BUSY source is asked again after a pause, and the transfer completes', async () => {
    const p = payload(8, 1024)
    const server = await serving(p, { delayMs: 150 }, allow, { maxConcurrent: 1 })
    const me = await client(server)
    const events: string[] = []
    const slow = me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink: memorySink(), auth })
    await waitFor(() => server.services.chunks.stats.active === 1, 20_000, 'the first fetch to hold the only slot')
    const sink = memorySink()
    const result = await me.services.chunks.fetch({
      contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth, onProgress: e => { if (e.type === 'source-dropped') events.push(e.reason) }
    })
    expect(result.fetched).toBe(8)
    expect(sink.chunks.size).toBe(8)
    expect(events).toEqual([])
    expect(server.services.chunks.stats.busy).toBeGreaterThanOrEqual(1)
    await slow
  })
})

describe('chunk protocol, bad input', () => {
  async function rawExchange (server: ChunkNode, me: ChunkNode, frame: Uint8Array | 'oversized'): Promise<string> {
    const stream = await me.dialProtocol(server.peerId, CHUNKS_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 * 1024 })
    if (frame === 'oversized') {
      // A length prefix of 64 MiB: rejected before anything is allocated.
      stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x20]))
    } else {
      await lp.write(frame)
    }
    try {
      return decodeStatus((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()).status
    } catch (err) {
      return (err as Error).name
    }
  }

  it('garbage, wrong versions and oversized frames are refused; the node keeps serving', async () => {
    const p = payload(4, 1024)
    const server = await serving(p)
    const me = await client(server)
    const garbage = new Uint8Array([0x01, 0xff, 0x00, 0x13])
    const badVersion = new Uint8Array(encodeRequest({ auth: new Uint8Array(1), contentId: p.contentId, indexes: [0] }))
    // Flip the version field's value (v: 1 → v: 2) inside the CBOR map.
    const at = Buffer.from(badVersion).indexOf(Buffer.from([0x61, 0x76, 0x01]))
    badVersion[at + 2] = 0x02
    const dupIndexes = encodeRequest({ auth: new Uint8Array(1), contentId: p.contentId, indexes: [1, 1] })
    const noIndexes = encodeRequest({ auth: new Uint8Array(1), contentId: p.contentId, indexes: [] })
    expect(await rawExchange(server, me, garbage)).toBe('INVALID')
    expect(await rawExchange(server, me, badVersion)).toBe('INVALID')
    expect(await rawExchange(server, me, dupIndexes)).toBe('INVALID')
    expect(await rawExchange(server, me, noIndexes)).toBe('INVALID')
    expect(await rawExchange(server, me, new Uint8Array([0x04]))).toBe('INVALID')
    expect(await rawExchange(server, me, 'oversized')).not.toBe('OK')
    expect(server.services.chunks.stats.invalid).toBe(5)
    // Still serving.
    const sink = memorySink()
    await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth })
    expectSame(p, sink)
  })

  it('a truncated response fails the source with a typed error, not a hang', async () => {
    const p = payload(6, 4096)
    // The server "crashes" after two chunks: its store throws, the stream is aborted.
    let n = 0
    const server = await serving(p, { tamper: (_i, b) => { if (++n > 2) throw new Error('disk gone'); return b } })
    const me = await client(server)
    const dropped: string[] = []
    const err = await me.services.chunks.fetch({
      contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink: memorySink(), auth, onProgress: e => { if (e.type === 'source-dropped') dropped.push(e.reason) }
    }).catch(e => e)
    expect(err.name).toBe('MissingChunksError')
    // Two chunks at most were served (over the source's two lanes, in either order); the rest is missing.
    expect(err.missing.length).toBeGreaterThanOrEqual(4)
    expect(new Set(err.missing).size).toBe(err.missing.length)
    expect(dropped).toEqual(['failed'])
  })

  it('a store that opens content is opened once per request, read one chunk ahead, and closed even when the requester goes away', async () => {
    const p = payload(12, 16 * 1024)
    const base = memoryStore(p)
    const counts = { opens: 0, closes: 0, reading: 0, mostReading: 0 }
    const store: ChunkStore = {
      has: base.has,
      read: base.read,
      open: async (cid) => {
        if (!await base.has(cid)) return undefined
        counts.opens++
        return {
          read: async (index) => {
            counts.reading++
            counts.mostReading = Math.max(counts.mostReading, counts.reading)
            await new Promise(resolve => setTimeout(resolve, 2))
            counts.reading--
            return await base.read(cid, index)
          },
          close: () => { counts.closes++ }
        }
      }
    }
    const server = await chunkNode({ store, authorize: allow })
    nodes.push(server)
    const me = await client(server)
    const sink = memorySink()
    await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink, auth, lanes: 1, initialBatch: 12 })
    expectSame(p, sink)
    expect(counts).toMatchObject({ opens: 1, closes: 1 })
    // The next chunk is read while one is sent, never more than that per request.
    expect(counts.mostReading).toBe(1)

    // A requester whose sink fails after two chunks aborts the stream: the server still closes what it opened.
    let puts = 0
    const failing = { has: async () => false, put: async () => { if (++puts > 2) throw new Error('disk full') } }
    const err = await me.services.chunks.fetch({ contentId: p.contentId, chunks: p.refs, sources: [server.peerId], sink: failing, auth, lanes: 1, initialBatch: 12 }).catch(e => e)
    expect(err).toBeInstanceOf(Error)
    await waitFor(() => counts.closes === counts.opens, 5_000, 'the reader closed')
    expect(counts.opens).toBe(2)
  })
})
