/**
 * Frames ahead of the image answer (`ahead`): the master's build sends the
 * released key as soon as it draws it and each chunk as soon as it is
 * sealed, over real TCP; the requester holds them, bounded, until the
 * answer's manifest says what they are worth.
 */
import { createHash, randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, describe, expect, it } from 'vitest'
import {
  buildManifest, encodeSignedManifest, generateDataKey, generateEd25519Signer, generateRecipientKeyPair, sealPayload, signManifest, unwrapDataKey, type SealedPayload
} from '../../src/privacy/payload/index.js'
import type { ChunkReader, ChunkStore } from '../../src/protocols/chunks/index.js'
import { AHEAD_CHUNK, AHEAD_KEY, AHEAD_LAYOUT, aheadChunkHeader, AheadFrames, encodeAheadKey, encodeAheadLayout } from '../../src/protocols/image/ahead.js'
import { IMAGE_LIMITS, IMAGE_PROTOCOL, imageArguments, INLINE_MAX_CHUNKS, type ImageAnswer, type ImageRequest, type ImageServerInit } from '../../src/protocols/image/index.js'
import { keyArguments } from '../../src/protocols/keys/index.js'
import { rpcCall } from '../../src/protocols/rpc.js'
import { joined } from '../../src/codec/pieces.js'
import { encodeCbor } from '../../src/codec/cbor.js'
import type { Decision } from '../../src/sac/index.js'
import { auth, imageClient as client, imageServer, resource, stopImageNodes, type ImageNode } from './image-fixture.js'
import { lateAccess } from './late-access.js'

afterEach(stopImageNodes)

const CHUNK = 64 * 1024
const VERSION = 2

interface BuildScript {
  /** Chunks the build seals after the request joined it (default: all). */
  sealedAfterJoin?: (index: number) => boolean
  /** The key the store holds for the version once built (default: the one drawn). */
  storedKey?: Uint8Array
  /** Waited for before the build answers (after drawing the key and sealing). */
  beforeAnswer?: () => Promise<void>
}

interface Master {
  node: ImageNode
  decisions: Decision[]
  sealed: SealedPayload
  dataKey: Uint8Array
  /** Chunk indexes read from the store (those sent after the answer). */
  reads: number[]
  /** The options each prepare call got (which hooks). */
  calls: Array<{ onDataKey: boolean, onSealed: boolean }>
}

/** A master whose build of `lfn-1` v2 (`chunks` chunks) draws its key, then seals, then answers, as ImagePipeline does. */
async function master (chunks: number, script: BuildScript = {}): Promise<Master> {
  const decisions: Decision[] = []
  const { access, bind } = lateAccess(decisions)
  const dataKey = generateDataKey()
  const sealed = await sealPayload(randomBytes(chunks * CHUNK - 100), dataKey, { fileId: 'lfn-1', version: VERSION, chunkSize: CHUNK })
  const { signer } = generateEd25519Signer()
  const reads: number[] = []
  const calls: Master['calls'] = []
  let manifest: Uint8Array | undefined
  const store: ChunkStore = {
    has: async () => true,
    read: async (_cid, i) => sealed.chunks[i]?.bytes,
    open: async () => {
      const reader: ChunkReader = { read: async (i) => { reads.push(i); return sealed.chunks[i]?.bytes }, close: () => {} }
      return reader
    }
  }
  const prepare: ImageServerInit['prepare'] = async (lfn, options) => {
    calls.push({ onDataKey: options.onDataKey !== undefined, onSealed: options.onSealed !== undefined })
    options.onDataKey?.(dataKey, VERSION, lfn)
    for (const c of sealed.chunks) {
      await new Promise(resolve => setTimeout(resolve, 2))
      if (script.sealedAfterJoin?.(c.index) ?? true) options.onSealed?.(c, sealed.layout)
    }
    await script.beforeAnswer?.()
    manifest ??= encodeSignedManifest(await signManifest(buildManifest({ layout: sealed.layout, chunks: sealed.refs, deidProfile: 'test', master: n.peerId.toString() }), signer))
    return { fileId: lfn, version: VERSION, manifest }
  }
  const n: ImageNode = await imageServer({
    access,
    chunks: store,
    resourceOf: async lfn => lfn === 'lfn-1' ? resource : undefined,
    prepare,
    keys: { access, keys: { get: async (lfn, version) => lfn === 'lfn-1' && version === VERSION ? { dataKey: script.storedKey ?? dataKey, resource } : undefined } }
  })
  bind(n.peerId.toString())
  return { node: n, decisions, sealed, dataKey, reads, calls }
}

/** A request for lfn-1 taking frames ahead, with a key request whose invocation is bound to `boundTo` (the recipient by default). */
function request (s: ImageNode, c: ImageNode, recipient: Uint8Array, opts: { boundTo?: Uint8Array, onAhead?: ImageRequest['onAhead'] } = {}): ImageRequest {
  return {
    lfn: 'lfn-1',
    auth: auth(s, c, 'image/prepare', imageArguments('lfn-1')),
    key: { lfn: 'lfn-1', version: VERSION, recipient, auth: auth(s, c, 'keys/release', keyArguments('lfn-1', VERSION, opts.boundTo ?? recipient)) },
    inline: true,
    ahead: true,
    ...(opts.onAhead === undefined ? {} : { onAhead: opts.onAhead })
  }
}

/** Receives what follows the answer: the chunks not sent ahead. */
async function rest (m: Master, answer: ImageAnswer): Promise<{ got: Map<number, Uint8Array>, missing: number[] }> {
  const got = new Map<number, Uint8Array>()
  const expected = new Map(m.sealed.refs.map((r, index) => [index, r.id] as const).filter(([index]) => answer.aheadChunks?.has(index) !== true))
  const missing = await (answer.inline as NonNullable<ImageAnswer['inline']>).receive({ expected, stallMs: 5_000, onChunk: async (i, bytes) => { got.set(i, joined(bytes)) } })
  return { got, missing }
}

function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

describe('key and chunks ahead of the image answer, over real TCP', () => {
  it('sends the released key as the build draws it and each chunk as it is sealed; the answer carries no key and nothing follows it', async () => {
    let keyArrived!: () => void
    const arrived = new Promise<void>(resolve => { keyArrived = resolve })
    // The build answers only once the requester holds the key: it must have travelled before the answer.
    const m = await master(3, { beforeAnswer: async () => { await arrived } })
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    const told: string[] = []
    const answer = await c.services.image.prepare(m.node.peerId, request(m.node, c, recipient.publicKey, {
      onAhead: {
        key: () => { told.push('key'); keyArrived() },
        layout: (layout) => {
          told.push('layout')
          expect(layout).toEqual({ chunkSize: m.sealed.layout.chunkSize, totalSize: m.sealed.layout.totalSize, salt: m.sealed.layout.salt })
        },
        chunk: (index) => { told.push(`chunk ${index}`) }
      }
    }))
    // The key goes as soon as judged and wrapped (beside the sealing); the layout before the first chunk.
    expect([...told].sort()).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'key', 'layout'])
    expect(told.filter(t => t !== 'key')).toEqual(['layout', 'chunk 0', 'chunk 1', 'chunk 2'])
    expect(answer.wrapped).toBeUndefined()
    expect(answer.aheadKey?.version).toBe(VERSION)
    const opened = await unwrapDataKey(answer.aheadKey?.wrapped as Uint8Array, recipient.privateKey, { fileId: 'lfn-1', version: VERSION })
    expect(hex(opened)).toBe(hex(m.dataKey))
    expect([...(answer.aheadChunks?.keys() ?? [])].sort()).toEqual([0, 1, 2])
    for (const [index, chunk] of answer.aheadChunks ?? []) {
      expect(hex(chunk.sha256)).toBe(hex(m.sealed.refs[index]?.id as Uint8Array))
      expect(hex(joined(chunk.bytes))).toBe(hex(m.sealed.chunks[index]?.bytes as Uint8Array))
    }
    const { got, missing } = await rest(m, answer)
    expect(got.size).toBe(0)
    expect(missing).toEqual([])
    expect(m.reads).toEqual([])
    expect(m.calls).toEqual([{ onDataKey: true, onSealed: true }])
    // One decision per right exercised: the key release judged once, before the key left.
    expect(m.decisions.map(d => [d.command, d.allow])).toEqual([['image/prepare', true], ['keys/release', true]])
  })

  it('a request joining a build mid-seal gets the chunks sealed before it after the answer', async () => {
    const m = await master(4, { sealedAfterJoin: index => index >= 2 })
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const answer = await c.services.image.prepare(m.node.peerId, request(m.node, c, generateRecipientKeyPair().publicKey))
    expect([...(answer.aheadChunks?.keys() ?? [])].sort()).toEqual([2, 3])
    const { got, missing } = await rest(m, answer)
    expect(missing).toEqual([])
    expect([...got.keys()].sort()).toEqual([0, 1])
    expect(m.reads).toEqual([0, 1])
    for (const [index, bytes] of got) expect(hex(bytes)).toBe(hex(m.sealed.chunks[index]?.bytes as Uint8Array))
  })

  it('a refused key release sends no key, ahead or with the answer; the chunks still go ahead', async () => {
    const m = await master(2)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    // The invocation names another recipient key: the release is refused.
    const answer = await c.services.image.prepare(m.node.peerId, request(m.node, c, recipient.publicKey, { boundTo: generateRecipientKeyPair().publicKey }))
    expect(answer.aheadKey).toBeUndefined()
    expect(answer.wrapped).toBeUndefined()
    expect(answer.aheadChunks?.size).toBe(2)
    expect((await rest(m, answer)).missing).toEqual([])
    // Judged once, ahead: the requester's own key request would get the typed refusal.
    expect(m.decisions.map(d => [d.command, d.allow])).toEqual([['image/prepare', true], ['keys/release', false]])
  })

  it('a key sent ahead that is not the one stored for the version is superseded by the stored one with the answer', async () => {
    const stored = generateDataKey()
    const m = await master(2, { storedKey: stored })
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    const answer = await c.services.image.prepare(m.node.peerId, request(m.node, c, recipient.publicKey))
    expect(answer.aheadKey).toBeDefined()
    const withAnswer = await unwrapDataKey(answer.wrapped as Uint8Array, recipient.privateKey, { fileId: 'lfn-1', version: VERSION })
    expect(hex(withAnswer)).toBe(hex(stored))
    // The release was judged once, ahead; the stored key went under that decision.
    expect(m.decisions.map(d => [d.command, d.allow])).toEqual([['image/prepare', true], ['keys/release', true]])
  })

  it('an image too large to go inline sends its key ahead but no chunk', async () => {
    const m = await master(INLINE_MAX_CHUNKS + 1)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const answer = await c.services.image.prepare(m.node.peerId, request(m.node, c, generateRecipientKeyPair().publicKey))
    expect(answer.aheadKey).toBeDefined()
    expect(answer.aheadChunks).toBeUndefined()
    expect(answer.inline).toBeUndefined()
  })

  it('not asked for: the build is not watched and nothing comes ahead', async () => {
    const m = await master(2)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    const { ahead: _a, ...plain } = request(m.node, c, generateRecipientKeyPair().publicKey)
    const answer = await c.services.image.prepare(m.node.peerId, plain)
    expect(m.calls).toEqual([{ onDataKey: true, onSealed: false }])
    expect(answer.aheadKey).toBeUndefined()
    expect(answer.aheadChunks).toBeUndefined()
    expect(answer.wrapped).toBeInstanceOf(Uint8Array)
    expect((await rest(m, answer)).got.size).toBe(2)
  })

  it('an ahead flag that is not true, or without inline, is INVALID before any work', async () => {
    const m = await master(2)
    const c = await client()
    await c.dial(m.node.getMultiaddrs())
    for (const fields of [{ ahead: 1, inline: true }, { ahead: true }]) {
      const stream = await c.dialProtocol(m.node.peerId, IMAGE_PROTOCOL)
      await expect(rpcCall(stream, { lfn: 'lfn-1', auth: auth(m.node, c, 'image/prepare', imageArguments('lfn-1')), ...fields }, IMAGE_LIMITS)).rejects.toMatchObject({ name: 'InvalidRequestError' })
    }
    expect(m.decisions).toEqual([])
    expect(m.calls).toEqual([])
  })

  it('a master sending an unknown frame ahead fails the request with a typed error', async () => {
    const rogue = await imageServer({ access: { check: async () => { throw new Error('unused') } }, resourceOf: async () => undefined, prepare: async () => { throw new Error('unused') } })
    // Replaces the real handler: answers any request with a frame of an unknown kind, then an OK answer.
    await rogue.unhandle(IMAGE_PROTOCOL)
    await rogue.handle(IMAGE_PROTOCOL, async (stream) => {
      const { lpStream } = await import('@libp2p/utils')
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(Uint8Array.of(0x07, 1, 2, 3))
      await lp.write(encodeCbor({ status: 'OK', body: { version: 1, manifest: new Uint8Array(4) } }))
      await stream.close().catch(() => {})
    })
    const c = await client()
    await c.dial(rogue.getMultiaddrs())
    await expect(c.services.image.prepare(rogue.peerId, { lfn: 'lfn-1', auth: new Uint8Array(8), inline: true, ahead: true })).rejects.toMatchObject({ name: 'ProtocolError' })
  })
})

describe('frames ahead, as the requester takes them', () => {
  const chunkFrame = (index: number, bytes: Uint8Array): Uint8ArrayList => new Uint8ArrayList(aheadChunkHeader(index), bytes)

  it('holds one key and each chunk once, hashed, and refuses anything beyond its bounds', () => {
    const keys: number[] = []
    const frames = new AheadFrames(3, { key: k => { keys.push(k.version) } })
    frames.take(new Uint8ArrayList(encodeAheadKey(5, new Uint8Array(80))))
    expect(keys).toEqual([5])
    const bytes = randomBytes(1000)
    frames.take(chunkFrame(2, bytes))
    expect(hex(frames.chunks.get(2)?.sha256 as Uint8Array)).toBe(hex(new Uint8Array(createHash('sha256').update(bytes).digest())))
    expect(() => { frames.take(chunkFrame(2, bytes)) }).toThrow(/twice/)
    expect(() => { frames.take(chunkFrame(3, bytes)) }).toThrow(/cannot come ahead/)
    expect(() => { frames.take(new Uint8ArrayList(encodeAheadKey(5, new Uint8Array(80)))) }).toThrow(/second key/)
    expect(() => { frames.take(new Uint8ArrayList(Uint8Array.of(0x09))) }).toThrow(/unknown frame/)
    expect(() => { frames.take(new Uint8ArrayList(Uint8Array.of(AHEAD_CHUNK, 0, 0))) }).toThrow(/bad chunk frame/)
    // Nothing refused was kept.
    expect([...frames.chunks.keys()]).toEqual([2])
  })

  it('holds one layout, and refuses one that is not exactly { chunkSize, totalSize, salt } within bounds', () => {
    const frames = new AheadFrames(3)
    const layout = { chunkSize: 1024, totalSize: 3000, salt: new Uint8Array(randomBytes(32)) }
    frames.take(new Uint8ArrayList(encodeAheadLayout(layout)))
    expect(frames.layout).toEqual(layout)
    expect(() => { frames.take(new Uint8ArrayList(encodeAheadLayout(layout))) }).toThrow(/second layout/)
    const bad = [
      Uint8Array.of(AHEAD_LAYOUT, ...encodeCbor({ chunkSize: 1024, totalSize: 3000 })),
      Uint8Array.of(AHEAD_LAYOUT, ...encodeCbor({ chunkSize: 0, totalSize: 3000, salt: randomBytes(32) })),
      Uint8Array.of(AHEAD_LAYOUT, ...encodeCbor({ chunkSize: 1024, totalSize: 3000, salt: randomBytes(31) })),
      Uint8Array.of(AHEAD_LAYOUT, ...encodeCbor({ chunkSize: 64 * 1024 * 1024, totalSize: 3000, salt: randomBytes(32) }))
    ]
    for (const frame of bad) {
      const fresh = new AheadFrames(3)
      expect(() => { fresh.take(new Uint8ArrayList(frame)) }).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
      expect(fresh.layout).toBeUndefined()
    }
  })

  it('refuses a key frame that is not exactly { version, wrapped } within bounds', () => {
    const bad = [
      Uint8Array.of(AHEAD_KEY, 0xff),
      Uint8Array.of(AHEAD_KEY, ...encodeCbor({ version: 1 })),
      Uint8Array.of(AHEAD_KEY, ...encodeCbor({ version: -1, wrapped: new Uint8Array(4) })),
      Uint8Array.of(AHEAD_KEY, ...encodeCbor({ version: 1, wrapped: 'x' })),
      Uint8Array.of(AHEAD_KEY, ...encodeCbor({ version: 1, wrapped: new Uint8Array(4), extra: 1 })),
      Uint8Array.of(AHEAD_KEY, ...encodeCbor({ version: 1, wrapped: new Uint8Array(2048) }))
    ]
    for (const frame of bad) {
      const frames = new AheadFrames(3)
      expect(() => { frames.take(new Uint8ArrayList(frame)) }).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
      expect(frames.key).toBeUndefined()
    }
  })
})
