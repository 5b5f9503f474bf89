import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  buildManifest, encodeSignedManifest, generateDataKey, generateEd25519Signer, merkleRoot, sealPayload, signManifest, type SealedPayload
} from '../../src/privacy/payload/index.js'
import type { ChunkReader, ChunkStore } from '../../src/protocols/chunks/index.js'
import { IMAGE_LIMITS, IMAGE_PROTOCOL, imageArguments, INLINE_MAX_CHUNKS, type ImageRequester } from '../../src/protocols/image/index.js'
import { rpcCall } from '../../src/protocols/rpc.js'
import type { Decision } from '../../src/sac/index.js'
import { auth as authFor, imageClient as client, imageServer, resource, stopImageNodes, type ImageNode } from './image-fixture.js'
import { lateAccess } from './late-access.js'
import { joined } from '../../src/codec/pieces.js'

afterEach(stopImageNodes)

const CHUNK = 64 * 1024

interface Master {
  node: ImageNode
  decisions: Decision[]
  sealed: SealedPayload
  /** Readers opened and closed by the image service. */
  readers: { opened: number, closed: number }
  /** Chunk indexes read so far. */
  reads: number[]
  /** Replaces a stored chunk's bytes (a corrupted copy). */
  corrupt: (index: number) => void
}

/** A master holding `lfn-1` v1 sealed in `chunks` chunks, its chunks in a store the image service reads. */
async function master (chunks: number): Promise<Master> {
  const decisions: Decision[] = []
  const { access, bind } = lateAccess(decisions)
  const sealed = await sealPayload(randomBytes(chunks * CHUNK - 100), generateDataKey(), { fileId: 'lfn-1', version: 1, chunkSize: CHUNK })
  const stored = sealed.chunks.map(c => c.bytes)
  const readers = { opened: 0, closed: 0 }
  const reads: number[] = []
  const { signer } = generateEd25519Signer()
  let manifest: Uint8Array | undefined
  const store: ChunkStore = {
    has: async () => true,
    read: async (_cid, i) => stored[i],
    open: async () => {
      readers.opened++
      let closed = false
      const reader: ChunkReader = {
        read: async (i) => { reads.push(i); return stored[i] },
        close: () => { if (!closed) { closed = true; readers.closed++ } }
      }
      return reader
    }
  }
  const n: ImageNode = await imageServer({
    access,
    chunks: store,
    resourceOf: async lfn => lfn === 'lfn-1' ? resource : undefined,
    prepare: async (lfn) => {
      manifest ??= encodeSignedManifest(await signManifest(buildManifest({ layout: sealed.layout, chunks: sealed.refs, deidProfile: 'test', master: n.peerId.toString() }), signer))
      return { fileId: lfn, version: 1, manifest }
    }
  })
  bind(n.peerId.toString())
  return {
    node: n,
    decisions,
    sealed,
    readers,
    reads,
    corrupt: (i) => {
      const copy = new Uint8Array(stored[i] as Uint8Array)
      copy[10] = (copy[10] ?? 0) ^ 1
      stored[i] = copy
    }
  }
}

/** The doctor's authorization for preparing `lfn-1` at `s`. */
function auth (s: ImageNode, c: ImageNode): Uint8Array {
  return authFor(s, c, 'image/prepare', imageArguments('lfn-1'))
}

/** Receives the inline chunks of `answer` into an array (by index). */
async function receiveAll (m: Master, inline: NonNullable<Awaited<ReturnType<ImageRequester['prepare']>>['inline']>): Promise<{ got: Uint8Array[], missing: number[] }> {
  const got: Uint8Array[] = []
  const missing = await inline.receive({
    expected: new Map(m.sealed.refs.map((r, index) => [index, r.id])),
    stallMs: 5_000,
    onChunk: async (i, bytes) => { got[i] = joined(bytes) }
  })
  return { got, missing }
}

describe('chunks with the image answer, over real TCP', () => {
  it('sends every chunk of a small image after the answer, under the one image/prepare decision', async () => {
    const m = await master(3)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const answer = await c.services.image.prepare(m.node.peerId, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true })
    expect(answer.inline).toBeDefined()
    const { got, missing } = await receiveAll(m, answer.inline as NonNullable<typeof answer.inline>)
    expect(missing).toEqual([])
    expect(got.map(b => Buffer.from(b).toString('hex'))).toEqual(m.sealed.chunks.map(ch => Buffer.from(ch.bytes).toString('hex')))
    expect(m.decisions.map(d => [d.command, d.allow])).toEqual([['image/prepare', true]])
    expect(m.readers).toEqual({ opened: 1, closed: 1 })
    // The stream slot is given back once the chunks are in: more answers than the stream limit (16), one after another.
    for (let i = 0; i < 20; i++) {
      const again = await c.services.image.prepare(m.node.peerId, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true })
      expect((await receiveAll(m, again.inline as NonNullable<typeof again.inline>)).missing).toEqual([])
    }
    await expect.poll(() => m.readers.closed).toBe(21)
  })

  it('not asked for, or a larger image: the answer alone, nothing read', async () => {
    const small = await master(2)
    const c = await client()
    await c.dial(small.node.getMultiaddrs())
    const plain = await c.services.image.prepare(small.node.peerId, { lfn: 'lfn-1', auth: auth(small.node, c) })
    expect(plain.inline).toBeUndefined()
    expect(small.readers.opened).toBe(0)
    // Each answer's stream is let go: more requests than the stream limit (16) go through one after another.
    for (let i = 0; i < 20; i++) {
      expect((await c.services.image.prepare(small.node.peerId, { lfn: 'lfn-1', auth: auth(small.node, c) })).version).toBe(1)
    }

    const large = await master(INLINE_MAX_CHUNKS + 1)
    await c.dial(large.node.getMultiaddrs())
    const answer = await c.services.image.prepare(large.node.peerId, { lfn: 'lfn-1', auth: auth(large.node, c), inline: true })
    expect(answer.inline).toBeUndefined()
    expect(large.readers.opened).toBe(0)
    expect(large.reads).toEqual([])
  })

  it('a chunk whose hash is wrong fails the receive with a typed error; the master keeps serving', async () => {
    const m = await master(3)
    m.corrupt(1)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const answer = await c.services.image.prepare(m.node.peerId, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true })
    await expect(receiveAll(m, answer.inline as NonNullable<typeof answer.inline>)).rejects.toMatchObject({ name: 'CorruptChunkError' })
    await expect.poll(() => m.readers.closed).toBe(1)
    // Let go without reading: the master's reader is released all the same.
    const again = await c.services.image.prepare(m.node.peerId, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true })
    again.inline?.abandon()
    await expect.poll(() => m.readers.closed).toBe(2)
    expect(m.readers.opened).toBe(2)
  })

  it('a requester that already holds the content gets the answer alone; one holding other content gets the chunks', async () => {
    const m = await master(3)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const held = merkleRoot(m.sealed.refs.map(r => r.id))
    const same = await c.services.image.prepare(m.node.peerId, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true, have: held })
    expect(same.inline).toBeUndefined()
    expect(same.manifest.byteLength).toBeGreaterThan(0)
    expect(m.readers.opened).toBe(0)
    // Judged and audited all the same.
    expect(m.decisions.map(d => [d.command, d.allow])).toEqual([['image/prepare', true]])

    const other = await c.services.image.prepare(m.node.peerId, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true, have: randomBytes(32) })
    expect(other.inline).toBeDefined()
    expect((await receiveAll(m, other.inline as NonNullable<typeof other.inline>)).missing).toEqual([])
    expect(m.reads).toEqual([0, 1, 2])
  })

  it('a content id that is not 32 bytes is INVALID before any work', async () => {
    const m = await master(2)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    for (const have of [randomBytes(31), randomBytes(33), 'ab'.repeat(16), 7]) {
      const stream = await c.dialProtocol(m.node.peerId, IMAGE_PROTOCOL)
      await expect(rpcCall(stream, { lfn: 'lfn-1', auth: auth(m.node, c), inline: true, have }, IMAGE_LIMITS)).rejects.toMatchObject({ name: 'InvalidRequestError' })
    }
    expect(m.decisions).toEqual([])
    expect(m.readers.opened).toBe(0)
  })

  it('a bad inline flag is INVALID before any work', async () => {
    const m = await master(2)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    // The client sends only `true`: a hand-made request.
    const stream = await c.dialProtocol(m.node.peerId, IMAGE_PROTOCOL)
    await expect(rpcCall(stream, { lfn: 'lfn-1', auth: auth(m.node, c), inline: 1 }, IMAGE_LIMITS)).rejects.toMatchObject({ name: 'InvalidRequestError' })
    expect(m.decisions).toEqual([])
    expect(m.readers.opened).toBe(0)
  })
})
