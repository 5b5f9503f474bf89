/**
 * Every way of altering the chunk sequence fails with a typed error, at two
 * layers: against a manifest's chunk list (ids checked before decryption),
 * and with the AEAD alone when the attacker also fixes up ids and indexes.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { chunkId, generateDataKey, openPayload, openStream } from '../../../src/privacy/payload/index.js'
import type { SealedChunk } from '../../../src/privacy/payload/index.js'
import { FILE, openName, payloadArb, payloadWithChunks, relabel, seal } from './helpers.js'

const RUNS = { numRuns: 60 }

/** A copy of the chunk whose id is recomputed over its (altered) bytes. */
function refreshed (c: SealedChunk): SealedChunk {
  return { ...c, id: chunkId(c.bytes) }
}

describe('tampering with chunks', () => {
  it('flipping any bit of any chunk fails, and nothing unauthenticated is released', async () => {
    const arb = payloadArb.chain(p => fc.record({
      p: fc.constant(p),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 })
    }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, at, bit }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const total = s.chunks.reduce((n, c) => n + c.bytes.length, 0)
      let pos = at % total
      const chunks = s.chunks.map(c => ({ ...c, bytes: new Uint8Array(c.bytes) }))
      const victim = chunks.find(c => { if (pos < c.bytes.length) return true; pos -= c.bytes.length; return false }) as SealedChunk
      victim.bytes[pos] = (victim.bytes[pos] as number) ^ (1 << bit)
      const withManifest = { ...s.layout, chunks: s.refs }
      // Claimed id now wrong for the bytes; AEAD also fails.
      expect(['ChunkAuthError', 'ChunkIdMismatchError']).toContain(await openName(chunks, key, withManifest))
      // Attacker recomputes the id: the manifest no longer lists it …
      const fixed = chunks.map(c => c === victim ? refreshed(c) : c)
      expect(await openName(fixed, key, withManifest)).toBe('ChunkIdMismatchError')
      // … and without the manifest, the tag does not verify.
      expect(await openName(fixed, key, s.layout)).toBe('ChunkAuthError')
      // What was yielded before the failure is exactly the original prefix.
      const released: number[] = []
      try {
        for await (const piece of openStream(fixed, key, s.layout)) released.push(...piece)
      } catch {}
      expect(released).toEqual([...p.data.subarray(0, victim.index * p.chunkSize)])
    }), RUNS)
  })

  it('a chunk marked as already hash-checked is not hashed again, but a flipped bit still fails and a chunk the manifest does not list is refused', async () => {
    const arb = payloadWithChunks(1).chain(p => fc.record({ p: fc.constant(p), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, at, bit }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const withManifest = { ...s.layout, chunks: s.refs }
      const checked = s.chunks.map(c => ({ ...c, bytes: new Uint8Array(c.bytes), idChecked: true }))
      // Untouched: opens as usual.
      expect(await openPayload(checked, key, withManifest)).toEqual(p.data)
      const victim = checked[at % checked.length] as SealedChunk
      const pos = Math.floor(at / checked.length) % victim.bytes.length
      victim.bytes[pos] = (victim.bytes[pos] as number) ^ (1 << bit)
      // The id is no longer recomputed, so the tag is what catches the flip.
      expect(await openName(checked, key, withManifest)).toBe('ChunkAuthError')
      // An id the manifest does not list is still refused before decryption.
      const other = checked.map(c => c === victim ? { ...c, id: chunkId(c.bytes) } : c)
      expect(await openName(other, key, withManifest)).toBe('ChunkIdMismatchError')
    }), RUNS)
  })

  it('dropping any chunk fails (order or truncation), even with indexes renumbered', async () => {
    const arb = payloadWithChunks(2).chain(p => fc.record({ p: fc.constant(p), drop: fc.nat() }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, drop }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const i = drop % s.chunks.length
      const kept = s.chunks.filter((_, j) => j !== i)
      const last = i === s.chunks.length - 1
      expect(await openName(kept, key, { ...s.layout, chunks: s.refs })).toBe(last ? 'TruncatedPayloadError' : 'ChunkOrderError')
      expect(await openName(kept, key, s.layout)).toBe(last ? 'TruncatedPayloadError' : 'ChunkOrderError')
      if (!last) {
        expect(await openName(relabel(kept), key, { ...s.layout, chunks: s.refs })).toBe('ChunkIdMismatchError')
        // A full chunk moved into the short last position fails on its size first.
        expect(['ChunkAuthError', 'ChunkSizeError']).toContain(await openName(relabel(kept), key, s.layout))
      }
    }), RUNS)
  })

  it('truncating to a prefix fails even if the length is forged too (last-chunk flag, total in AAD)', async () => {
    const arb = payloadWithChunks(2).chain(p => fc.record({ p: fc.constant(p), keep: fc.nat() }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, keep }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const k = 1 + keep % (s.chunks.length - 1)
      expect(await openName(s.chunks.slice(0, k), key, s.layout)).toBe('TruncatedPayloadError')
      const forged = { ...s.layout, totalSize: k * p.chunkSize }
      expect(await openName(s.chunks.slice(0, k), key, forged)).toBe('ChunkAuthError')
    }), RUNS)
  })

  it('reordering any two chunks fails, even with indexes renumbered', async () => {
    const arb = payloadWithChunks(2).chain(p => fc.record({ p: fc.constant(p), a: fc.nat(), b: fc.nat() }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, a, b }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const n = s.chunks.length
      const i = a % n
      const j = (i + 1 + b % (n - 1)) % n
      const swapped = [...s.chunks]
      ;[swapped[i], swapped[j]] = [swapped[j] as SealedChunk, swapped[i] as SealedChunk]
      expect(await openName(swapped, key, { ...s.layout, chunks: s.refs })).toBe('ChunkOrderError')
      expect(await openName(relabel(swapped), key, { ...s.layout, chunks: s.refs })).toBe('ChunkIdMismatchError')
      // Same-size chunks swapped fail authentication; a short last chunk moved fails on its size.
      expect(['ChunkAuthError', 'ChunkSizeError']).toContain(await openName(relabel(swapped), key, s.layout))
    }), RUNS)
  })

  it('duplicating any chunk, or appending one, fails', async () => {
    const arb = payloadArb.chain(p => fc.record({ p: fc.constant(p), d: fc.nat() }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, d }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const i = d % s.chunks.length
      const dup = [...s.chunks.slice(0, i + 1), s.chunks[i] as SealedChunk, ...s.chunks.slice(i + 1)]
      expect(await openName(dup, key, { ...s.layout, chunks: s.refs })).toBe('ChunkOrderError')
      expect(await openName(dup, key, s.layout)).toBe('ChunkOrderError')
      const extra = [...s.chunks, { ...(s.chunks[i] as SealedChunk), index: s.chunks.length }]
      expect(await openName(extra, key, s.layout)).toBe('ChunkOrderError')
      if (i < s.chunks.length - 1) {
        expect(['ChunkAuthError', 'ChunkSizeError']).toContain(await openName(relabel(dup).slice(0, s.chunks.length), key, s.layout))
      }
    }), RUNS)
  })

  it('splicing a chunk from another file, version or sealing fails', async () => {
    const other = fc.constantFrom(
      { file: { fileId: 'lfn:other', version: 1 }, sameKey: true },
      { file: { fileId: FILE.fileId, version: 2 }, sameKey: true },
      { file: FILE, sameKey: true },
      { file: FILE, sameKey: false })
    const arb = payloadArb.chain(p => fc.record({ p: fc.constant(p), other, at: fc.nat() }))
    await fc.assert(fc.asyncProperty(arb, async ({ p, other, at }) => {
      const key = generateDataKey()
      const s = await seal(p.data, p.chunkSize, key)
      const t = await seal(p.data, p.chunkSize, other.sameKey ? key : generateDataKey(), other.file)
      const i = at % s.chunks.length
      const spliced = s.chunks.map((c, j) => j === i ? t.chunks[j] as SealedChunk : c)
      expect(await openName(spliced, key, { ...s.layout, chunks: s.refs })).toBe('ChunkIdMismatchError')
      expect(await openName(spliced, key, s.layout)).toBe('ChunkAuthError')
    }), RUNS)
  })

  it('fails under another data key, file id or version', async () => {
    const key = generateDataKey()
    const s = await seal(new Uint8Array(300).fill(1), 128, key)
    expect(await openName(s.chunks, generateDataKey(), s.layout)).toBe('ChunkAuthError')
    expect(await openName(s.chunks, key, { ...s.layout, fileId: 'lfn:other' })).toBe('ChunkAuthError')
    expect(await openName(s.chunks, key, { ...s.layout, version: 2 })).toBe('ChunkAuthError')
    expect(await openName(s.chunks, key, { ...s.layout, salt: new Uint8Array(32) })).toBe('ChunkAuthError')
    expect(await openPayload(s.chunks, key, s.layout)).toEqual(new Uint8Array(300).fill(1))
  })

  it('rejects malformed chunks and descriptors with typed errors', async () => {
    const key = generateDataKey()
    const s = await seal(new Uint8Array(10), 4, key)
    const bad = [{ ...s.chunks[0], id: new Uint8Array(3) }] as SealedChunk[]
    expect(await openName(bad, key, s.layout)).toBe('PayloadParameterError')
    expect(await openName(s.chunks, key, { ...s.layout, chunks: s.refs.slice(1) })).toBe('PayloadParameterError')
    expect(await openName(s.chunks, new Uint8Array(16), s.layout)).toBe('PayloadParameterError')
    expect(await openName(s.chunks, key, { ...s.layout, chunkSize: 0 })).toBe('PayloadParameterError')
    const short = s.chunks.map(c => c.index === 0 ? { ...c, bytes: c.bytes.subarray(1), id: chunkId(c.bytes.subarray(1)) } : c)
    expect(await openName(short, key, s.layout)).toBe('ChunkSizeError')
    // Authentic bytes under a wrong claimed id: the id check alone catches it.
    const misnamed = s.chunks.map(c => c.index === 1 ? { ...c, id: s.chunks[0]?.id as Uint8Array } : c)
    expect(await openName(misnamed, key, s.layout)).toBe('ChunkIdMismatchError')
  })
})
