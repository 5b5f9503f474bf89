import { decode, encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { matchesCanonical } from '../../src/sac/canonical.js'
import { decodeCanonical, encodeCanonical } from '../../src/sac/index.js'

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))

function errorOf (fn: () => unknown): { name: string, reason: string } {
  try {
    fn()
  } catch (err) {
    const e = err as { name: string, reason: string }
    return { name: e.name, reason: e.reason }
  }
  throw new Error('expected an error')
}

describe('deterministic CBOR', () => {
  it('round-trips the data model to the same bytes', () => {
    const value = { b: 1, a: [true, 'x', new Uint8Array([1, 2])], nested: { z: -5, y: 2 ** 40 } }
    const bytes = encodeCanonical(value, 1024)
    expect(decodeCanonical(bytes, 1024)).toEqual(value)
    expect(encodeCanonical(decodeCanonical(bytes, 1024), 1024)).toEqual(bytes)
  })

  it('sorts map keys bytewise by their encoding (RFC 8949 §4.2.1): shorter first', () => {
    expect(Buffer.from(encodeCanonical({ b: 1, aa: 2, a: 3 }, 64)).toString('hex')).toBe('a3616103616201626161' + '02')
  })

  it.each([
    ['a float', 'f93e00', 'MALFORMED'], // 1.5
    ['a float holding an integer', 'f93c00', 'NON_CANONICAL'], // 1.0
    ['negative zero', 'f98000', 'MALFORMED'],
    ['null', 'f6', 'MALFORMED'],
    ['undefined', 'f7', 'MALFORMED'],
    ['a tag', 'c11a00000000', 'MALFORMED'],
    ['an integer beyond 2^53', '1b0020000000000000', 'MALFORMED'],
    ['NaN', 'f97e00', 'MALFORMED'],
    ['an indefinite-length array', '9f01ff', 'NON_CANONICAL'],
    ['a non-minimal integer', '1801', 'NON_CANONICAL'],
    ['a non-minimal length', '780161', 'NON_CANONICAL'],
    ['duplicate map keys', 'a2616101616102', 'NON_CANONICAL'],
    ['unsorted map keys', 'a2616201616102', 'NON_CANONICAL'],
    ['length-first order violated', 'a2626161016162' + '02', 'NON_CANONICAL'],
    ['trailing bytes', '0000', 'MALFORMED'],
    ['truncated input', 'a26161', 'MALFORMED'],
    ['an integer map key', 'a10101', 'MALFORMED'],
    ['invalid UTF-8', '62c328', 'NON_CANONICAL'],
    ['empty input', '', 'MALFORMED']
  ])('rejects %s', (_what, h, reason) => {
    expect(errorOf(() => decodeCanonical(hex(h), 1024)).reason).toBe(reason)
  })

  it('rejects input over the size limit before decoding', () => {
    const bytes = encodeCanonical({ s: 'x'.repeat(100) }, 1024)
    expect(errorOf(() => decodeCanonical(bytes, 50))).toEqual({ name: 'MalformedRecordError', reason: 'MALFORMED' })
  })

  it('rejects nesting deeper than the limit', () => {
    let deep: unknown = 1
    for (let i = 0; i < 20; i++) deep = [deep]
    expect(errorOf(() => decodeCanonical(encode(deep), 1024)).reason).toBe('MALFORMED')
    expect(errorOf(() => encodeCanonical(deep, 1024)).reason).toBe('MALFORMED')
  })

  it('refuses to encode values outside the model', () => {
    for (const bad of [1.5, -0, null, undefined, 2 ** 60, new Map(), new Date(0), { a: undefined }, [NaN]]) {
      expect(errorOf(() => encodeCanonical(bad, 1024))).toEqual({ name: 'MalformedRecordError', reason: 'MALFORMED' })
    }
  })

  it('keeps a __proto__ key as data, never as a prototype', () => {
    const bytes = hex('a1695f5f70726f746f5f5f01')
    const value = decodeCanonical(bytes, 64) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__'])
  })

  it('property: decoding accepts exactly the canonical encodings', () => {
    const model: fc.Arbitrary<unknown> = fc.letrec(tie => ({
      value: fc.oneof({ depthSize: 'small' },
        fc.string({ maxLength: 8 }), fc.boolean(), fc.maxSafeInteger(), fc.uint8Array({ maxLength: 8 }),
        fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }))
    })).value
    fc.assert(fc.property(model, fc.nat(), fc.integer({ min: 1, max: 255 }), (value, at, xor) => {
      const bytes = encodeCanonical(value, 1 << 16)
      expect(decodeCanonical(bytes, 1 << 16)).toEqual(value)
      // Any single-byte change either fails to decode or decodes to something that re-encodes to itself.
      const mutated = Uint8Array.from(bytes)
      const i = at % mutated.length
      mutated[i] = (mutated[i] as number) ^ xor
      let other: unknown
      try {
        other = decodeCanonical(mutated, 1 << 16)
      } catch (err) {
        expect(['MalformedRecordError', 'NonCanonicalError']).toContain((err as Error).name)
        return
      }
      expect(Buffer.from(encodeCanonical(other, 1 << 16)).toString('hex')).toBe(Buffer.from(mutated).toString('hex'))
    }), { numRuns: 300 })
  })

  it('property: the fused canonical check decides exactly as cborg re-encode + compare', () => {
    const strict = { strict: true, allowIndefinite: false, allowUndefined: false, allowNaN: false, allowInfinity: false, allowBigInt: false, rejectDuplicateMapKeys: true }
    function inModel (v: unknown, depth: number): boolean {
      if (depth > 16) return false
      if (typeof v === 'string' || typeof v === 'boolean' || v instanceof Uint8Array) return true
      if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0)
      if (Array.isArray(v)) return v.every(x => inModel(x, depth + 1))
      if (typeof v === 'object' && v !== null) return Object.values(v).every(x => inModel(x, depth + 1))
      return false
    }
    const leaf = fc.oneof(
      fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }), fc.boolean(),
      fc.integer({ min: -70_000, max: 70_000 }), fc.maxSafeInteger(), fc.constantFrom(2 ** 32, -(2 ** 32) - 1, 255, 256, 65535, 65536),
      fc.uint8Array({ maxLength: 30 }), fc.double(), fc.constant(null)
    )
    const anyValue: fc.Arbitrary<unknown> = fc.letrec(tie => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string({ maxLength: 5 }), fc.string({ unit: 'binary', maxLength: 3 })), tie('value'), { maxKeys: 5 }))
    })).value
    const reversed = { mapSorter: (a: unknown[], b: unknown[]) => -String((a[0] as { value: unknown }).value).localeCompare(String((b[0] as { value: unknown }).value)) }
    let accepted = 0
    fc.assert(fc.property(anyValue, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 255 }), (value, shuffle, at, xor) => {
      const bytes = Uint8Array.from(shuffle ? encode(value, reversed) : encode(value))
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ xor
      let decoded: unknown
      try {
        decoded = decode(bytes, strict)
      } catch {
        return
      }
      const expected = !inModel(decoded, 0) ? 'outside-model' : Buffer.from(encode(decoded)).equals(Buffer.from(bytes)) ? 'ok' : 'non-canonical'
      const actual = matchesCanonical(decoded, bytes)
      expect(actual === 'ok').toBe(expected === 'ok')
      if (expected === 'ok') accepted++
    }), { numRuns: 3000 })
    expect(accepted).toBeGreaterThan(300)
  })
})
