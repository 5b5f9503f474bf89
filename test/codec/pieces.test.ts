import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { byteLengthOf, joined, piecesOf, splitTail } from '../../src/codec/pieces.js'

const cutsOf = fc.uint8Array({ maxLength: 300 }).chain(bytes => fc.record({
  bytes: fc.constant(bytes),
  cuts: fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 8 })
}))

function cut (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), bytes.length]
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end))
}

describe('bytes in pieces', () => {
  it('join, measure and split their tail like the bytes they hold, however cut', () => {
    fc.assert(fc.property(cutsOf, fc.nat(), ({ bytes, cuts }, n) => {
      const pieces = cut(bytes, cuts)
      expect(byteLengthOf(pieces)).toBe(bytes.length)
      expect(joined(pieces)).toEqual(bytes)
      const k = n % (bytes.length + 1)
      const { head, tail } = splitTail(pieces, k)
      expect(joined(head)).toEqual(bytes.subarray(0, bytes.length - k))
      expect(tail).toEqual(bytes.subarray(bytes.length - k))
      // The head is views of the pieces (no copy), without empty ones.
      expect(head.every(h => h.byteLength > 0 && h.buffer === bytes.buffer)).toBe(true)
    }))
  })

  it('hand back one buffer or one piece as is', () => {
    const b = Uint8Array.of(1, 2, 3)
    expect(joined(b)).toBe(b)
    expect(joined([b])).toBe(b)
    expect(piecesOf(b)).toEqual([b])
    expect(joined([])).toEqual(new Uint8Array(0))
  })

  it('refuse a tail longer than the bytes', () => {
    expect(() => splitTail([Uint8Array.of(1), Uint8Array.of(2)], 3)).toThrow(RangeError)
    expect(() => splitTail(Uint8Array.of(1), -1)).toThrow(RangeError)
  })
})
