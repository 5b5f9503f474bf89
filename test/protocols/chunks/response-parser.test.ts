import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_CHUNK_BYTES, MAX_CONTROL_BYTES } from '../../../src/protocols/chunks/constants.js'
import { chunkHeader, encodeEnd, encodeStatus, lengthPrefix } from '../../../src/protocols/chunks/frames.js'
import { ResponseParser } from '../../../src/protocols/chunks/response-parser.js'
import { joined } from '../../../src/codec/pieces.js'

function framed (...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts)
  return Buffer.concat([lengthPrefix(body.length), body])
}

interface Seen { status: string[], chunks: Array<[number, string, string]>, end: number[][] }

function parser (indexes: number[]): { p: ResponseParser, seen: Seen } {
  const seen: Seen = { status: [], chunks: [], end: [] }
  const p = new ResponseParser(new Map(indexes.map(i => [i, true])), {
    status: s => seen.status.push(s.status),
    chunk: (i, bytes, sha) => seen.chunks.push([i, Buffer.from(joined(bytes)).toString('hex'), Buffer.from(sha).toString('hex')]),
    end: m => seen.end.push(m)
  })
  return { p, seen }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('chunk response parser', () => {
  it('parses a response cut anywhere, hashing each chunk as it arrives', () => {
    const chunks = [randomBytes(3000), randomBytes(1), randomBytes(0), randomBytes(70_000)]
    const wire = Buffer.concat([
      framed(encodeStatus({ status: 'OK' })),
      ...chunks.map((c, i) => framed(chunkHeader(i * 2), c)),
      framed(encodeEnd([9]))
    ])
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: wire.length }), { maxLength: 12 }), cuts => {
      const { p, seen } = parser([0, 2, 4, 6, 9])
      const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), wire.length]
      for (let k = 1; k < points.length; k++) p.push(wire.subarray(points[k - 1], points[k]))
      expect(seen.status).toEqual(['OK'])
      expect(seen.chunks).toEqual(chunks.map((c, i) => [i * 2, c.toString('hex'), sha(c)]))
      expect(seen.end).toEqual([[9]])
      expect(p.ended).toBe(true)
    }), { numRuns: 60 })
  })

  it('hands each chunk over as views of the data pushed, never a copy', () => {
    const body = randomBytes(5000)
    const wire = Buffer.concat([framed(encodeStatus({ status: 'OK' })), framed(chunkHeader(0), body), framed(encodeEnd([]))])
    const got: Array<readonly Uint8Array[]> = []
    const p = new ResponseParser(new Map([[0, true]]), { status: () => {}, chunk: (_i, bytes) => { got.push(bytes) }, end: () => {} })
    // Pushed in three reads, the chunk cut twice.
    const reads = [wire.subarray(0, 40), wire.subarray(40, 3000), wire.subarray(3000)]
    for (const r of reads) p.push(r)
    const pieces = got[0] ?? []
    expect(Buffer.concat(pieces)).toEqual(body)
    expect(pieces).toHaveLength(3)
    expect(pieces.every(piece => piece.buffer === wire.buffer)).toBe(true)
  })

  it('refuses, before allocating, lengths beyond the limits', () => {
    const status = framed(encodeStatus({ status: 'OK' }))
    const tooBig = (n: number): Uint8Array => Buffer.concat([status, lengthPrefix(n), Buffer.from([0x03, 0, 0, 0, 0])])
    expect(() => parser([0]).p.push(tooBig(MAX_CHUNK_BYTES + 6))).toThrow(/exceeds the limit/)
    expect(() => parser([0]).p.push(Buffer.concat([status, lengthPrefix(MAX_CONTROL_BYTES + 1), Buffer.from([0x04, 0, 0, 0, 0])]))).toThrow(/control frame/)
    expect(() => parser([0]).p.push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(/prefix too long/)
    expect(() => parser([0]).p.push(new Uint8Array([0x00]))).toThrow(/empty frame/)
  })

  it('refuses frames out of order, unrequested or repeated chunks, garbage and data after the end', () => {
    const ok = framed(encodeStatus({ status: 'OK' }))
    const c0 = framed(chunkHeader(0), new Uint8Array([1, 2]))
    const cases: Array<[Uint8Array, RegExp]> = [
      [c0, /expected a status frame/],
      [Buffer.concat([ok, ok]), /second status frame/],
      [Buffer.concat([ok, framed(chunkHeader(7), new Uint8Array(1))]), /unrequested chunk 7/],
      [Buffer.concat([ok, c0, c0]), /unrequested chunk 0/],
      [Buffer.concat([ok, framed(new Uint8Array([0x03, 0, 0]))]), /expected a chunk frame/],
      [Buffer.concat([ok, framed(new Uint8Array([0x09, 1, 2]))]), /unexpected frame/],
      [Buffer.concat([ok, framed(new Uint8Array([0x04, 0xff, 0xff]))]), /not valid CBOR/],
      [Buffer.concat([ok, framed(encodeEnd([])), new Uint8Array([1])]), /after the end frame/]
    ]
    for (const [wire, error] of cases) {
      expect(() => parser([0]).p.push(wire)).toThrow(error)
      try { parser([0]).p.push(wire) } catch (err) { expect((err as Error).name).toBe('ProtocolError') }
    }
  })

  it('reports a non-OK status, and knows when it is between frames', () => {
    const { p, seen } = parser([0])
    expect(p.atBoundary).toBe(true)
    const wire = framed(encodeStatus({ status: 'DENIED', reason: 'EXPIRED' }))
    p.push(wire.subarray(0, 2))
    expect(p.atBoundary).toBe(false)
    p.push(wire.subarray(2))
    expect(seen.status).toEqual(['DENIED'])
    expect(p.atBoundary).toBe(true)
  })
})
