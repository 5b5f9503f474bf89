import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  DEFAULT_CHUNK_SIZE, TAG_BYTES, chunkCount, chunkId, generateDataKey, openPayload, openStream, sealStream
} from '../../../src/privacy/payload/index.js'
import { FILE, payloadArb, seal } from './helpers.js'

function sha256 (b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest())
}

async function collect (it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of it) parts.push(new Uint8Array(p))
  return new Uint8Array(Buffer.concat(parts))
}

describe('seal → open', () => {
  it('returns the payload, for any payload and chunk size (in memory)', async () => {
    await fc.assert(fc.asyncProperty(payloadArb, async ({ chunkSize, data }) => {
      const key = generateDataKey()
      const sealed = await seal(data, chunkSize, key)
      expect(sealed.chunks.length).toBe(data.length === 0 ? 1 : Math.ceil(data.length / chunkSize))
      expect(sealed.chunks.map(c => c.index)).toEqual(sealed.chunks.map((_, i) => i))
      for (const c of sealed.chunks) {
        expect(c.id).toEqual(sha256(c.bytes))
        expect(c.bytes.length).toBe(Math.min(chunkSize, data.length - c.index * chunkSize) + TAG_BYTES)
      }
      expect(await openPayload(sealed.chunks, key, { ...sealed.layout, chunks: sealed.refs })).toEqual(data)
    }), { numRuns: 150 })
  })

  it('returns the payload however the source is cut into pieces (streaming)', async () => {
    const arb = payloadArb.chain(p => fc.record({
      chunkSize: fc.constant(p.chunkSize),
      data: fc.constant(p.data),
      cuts: fc.uniqueArray(fc.integer({ min: 0, max: p.data.length }), { maxLength: 12 })
    }))
    await fc.assert(fc.asyncProperty(arb, async ({ chunkSize, data, cuts }) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), data.length]
      const pieces = bounds.slice(1).map((end, i) => data.subarray(bounds[i], end))
      const key = generateDataKey()
      const sealer = sealStream(Readable.from(pieces), key, { ...FILE, chunkSize, totalSize: data.length })
      const chunks = []
      for await (const c of sealer.chunks) chunks.push(c)
      expect(sealer.refs).toEqual(chunks.map(c => ({ id: c.id, size: c.bytes.length })))
      expect(await collect(openStream(chunks, key, { ...sealer.layout, chunks: sealer.refs }))).toEqual(data)
    }), { numRuns: 100 })
  })

  it('returns the payload from a mix of small (staged) and large (direct) pieces', async () => {
    const sizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 70_000 }), fc.integer({ min: 250_000, max: 1_500_000 })), { minLength: 1, maxLength: 6 })
    await fc.assert(fc.asyncProperty(sizes, fc.constantFrom(300_000, DEFAULT_CHUNK_SIZE), async (lengths, chunkSize) => {
      const data = randomBytes(lengths.reduce((a, b) => a + b, 0))
      const pieces: Uint8Array[] = []
      let at = 0
      for (const n of lengths) { pieces.push(data.subarray(at, at + n)); at += n }
      const key = generateDataKey()
      const sealer = sealStream(pieces, key, { ...FILE, chunkSize, totalSize: data.length })
      const chunks = []
      for await (const c of sealer.chunks) chunks.push(c)
      expect(chunks).toHaveLength(Math.ceil(data.length / chunkSize))
      const back = await openPayload(chunks, key, { ...sealer.layout, chunks: sealer.refs })
      // Buffer.equals: a deep toEqual over megabytes is slow.
      expect(back.length).toBe(data.length)
      expect(Buffer.from(back).equals(data)).toBe(true)
    }), { numRuns: 8 })
  })

  it('seals an empty payload as one empty, authenticated last chunk', async () => {
    const key = generateDataKey()
    const sealed = await seal(new Uint8Array(0), 16, key)
    expect(sealed.chunks).toHaveLength(1)
    expect(sealed.chunks[0]?.bytes.length).toBe(TAG_BYTES)
    expect(await openPayload(sealed.chunks, key, sealed.layout)).toEqual(new Uint8Array(0))
  })

  it('uses 1 MiB chunks by default', async () => {
    expect(DEFAULT_CHUNK_SIZE).toBe(1048576)
    const sealer = sealStream([new Uint8Array(DEFAULT_CHUNK_SIZE + 1)], generateDataKey(), { ...FILE, totalSize: DEFAULT_CHUNK_SIZE + 1 })
    expect(sealer.layout.chunkSize).toBe(DEFAULT_CHUNK_SIZE)
    expect(chunkCount(sealer.layout)).toBe(2)
  })

  it('is never convergent: the same plaintext sealed twice (even under one key) gives other chunks', async () => {
    const data = new Uint8Array(100).fill(7)
    const key = generateDataKey()
    const a = await seal(data, 32, key)
    const b = await seal(data, 32, key)
    const c = await seal(data, 32, generateDataKey())
    for (let i = 0; i < a.chunks.length; i++) {
      expect(a.chunks[i]?.id).not.toEqual(b.chunks[i]?.id)
      expect(a.chunks[i]?.id).not.toEqual(c.chunks[i]?.id)
    }
    expect(a.layout.salt).not.toEqual(b.layout.salt)
  })

  it('exposes no plaintext hash: no id equals SHA-256 of the payload or of a plaintext chunk', async () => {
    const data = new Uint8Array(200).map((_, i) => i)
    const sealed = await seal(data, 64, generateDataKey())
    const plainHashes = [sha256(data), ...[0, 1, 2, 3].map(i => sha256(data.subarray(i * 64, i * 64 + 64)))]
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
    const exposed = new Set(sealed.chunks.map(c => hex(c.id)))
    for (const h of plainHashes) expect(exposed.has(hex(h))).toBe(false)
    expect(sealed.chunks.map(c => hex(chunkId(c.bytes)))).toEqual(sealed.chunks.map(c => hex(c.id)))
  })
})

describe('opening chunks held in the pieces they arrived in', () => {
  /** `bytes` cut at `cuts` (sorted, within bounds): views, no copy. */
  const cutAt = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
    const bounds = [0, ...cuts.map(c => Math.min(c, bytes.length)).sort((a, b) => a - b), bytes.length]
    return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end))
  }
  const arb = payloadArb.chain(p => fc.record({
    chunkSize: fc.constant(p.chunkSize),
    data: fc.constant(p.data),
    cuts: fc.array(fc.integer({ min: 0, max: p.chunkSize + TAG_BYTES }), { maxLength: 6 }),
    flip: fc.option(fc.nat(), { nil: undefined })
  }))

  it('returns the payload however each chunk is cut (the tag too), and fails on any flipped bit', async () => {
    await fc.assert(fc.asyncProperty(arb, async ({ chunkSize, data, cuts, flip }) => {
      const key = generateDataKey()
      const sealed = await seal(data, chunkSize, key)
      const descriptor = { ...sealed.layout, chunks: sealed.refs }
      const received = sealed.chunks.map(c => ({ index: c.index, id: c.id, bytes: cutAt(c.bytes, cuts) }))
      expect(received.every(r => Buffer.concat(r.bytes).equals(sealed.chunks[r.index]?.bytes as Uint8Array))).toBe(true)
      expect(await collect(openStream(received, key, descriptor))).toEqual(data)
      if (flip === undefined) return
      // One bit flipped in a copy of one chunk's pieces: the hash check refuses it, and so does AES-GCM when the hash is trusted.
      const victim = received[flip % received.length] as typeof received[number]
      const whole = new Uint8Array(Buffer.concat(victim.bytes))
      const bit = flip % (whole.length * 8)
      whole[bit >> 3] = (whole[bit >> 3] as number) ^ (1 << (bit & 7))
      const tampered = received.map(r => r === victim ? { ...r, bytes: cutAt(whole, cuts) } : r)
      await expect(collect(openStream(tampered, key, descriptor))).rejects.toMatchObject({ name: 'ChunkIdMismatchError' })
      const trusted = tampered.map(r => ({ ...r, idChecked: true }))
      await expect(collect(openStream(trusted, key, descriptor))).rejects.toMatchObject({ name: 'ChunkAuthError' })
    }), { numRuns: 120 })
  })

  it('refuses a chunk whose pieces add up to the wrong size, before decrypting', async () => {
    const key = generateDataKey()
    const sealed = await seal(randomBytes(5000), 2048, key)
    const first = sealed.chunks[0] as { index: number, id: Uint8Array, bytes: Uint8Array }
    const short = [{ index: 0, id: first.id, bytes: [first.bytes.subarray(0, 100), first.bytes.subarray(101)], idChecked: true }]
    await expect(collect(openStream(short, key, { ...sealed.layout, chunks: sealed.refs }))).rejects.toMatchObject({ name: 'ChunkSizeError' })
  })
})
