/**
 * Re-encode-and-compare, fused: walks a decoded value and checks, byte by
 * byte, that the input is exactly its canonical encoding (RFC 8949 §4.2.1:
 * shortest heads, definite lengths, map keys ordered by encoded length then
 * bytes) — what `encode(value)` followed by a comparison would decide, without
 * allocating the encoding. Values outside the data model (floats, `-0`, null,
 * non-plain objects, too deep) are reported as such. A property test checks it
 * agrees with cborg's encoder on every input.
 */
import { MAX_CBOR_DEPTH } from './constants.js'

export type Match = 'ok' | 'non-canonical' | 'outside-model'

const TWO_32 = 2 ** 32

function isAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** Canonical map-key order for text keys: UTF-8 length first, then bytes. */
function compareKeys (a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) {
    if (a.length !== b.length) return a.length - b.length
    return a < b ? -1 : a > b ? 1 : 0
  }
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length !== y.length ? x.length - y.length : Buffer.compare(x, y)
}

class Matcher {
  pos = 0
  constructor (private readonly bytes: Uint8Array) {}

  /** The shortest head for (major, n) at the current position. */
  head (major: number, n: number): boolean {
    const b = this.bytes
    const p = this.pos
    const m = major << 5
    if (n < 24) {
      if (b[p] !== (m | n)) return false
      this.pos = p + 1
    } else if (n < 0x100) {
      if (b[p] !== (m | 24) || b[p + 1] !== n) return false
      this.pos = p + 2
    } else if (n < 0x10000) {
      if (b[p] !== (m | 25) || b[p + 1] !== n >>> 8 || b[p + 2] !== (n & 0xff)) return false
      this.pos = p + 3
    } else if (n < TWO_32) {
      if (b[p] !== (m | 26) || !this.word(p + 1, n)) return false
      this.pos = p + 5
    } else {
      if (b[p] !== (m | 27) || !this.word(p + 1, Math.floor(n / TWO_32)) || !this.word(p + 5, n >>> 0)) return false
      this.pos = p + 9
    }
    return true
  }

  private word (p: number, n: number): boolean {
    const b = this.bytes
    return b[p] === n >>> 24 && b[p + 1] === ((n >>> 16) & 0xff) && b[p + 2] === ((n >>> 8) & 0xff) && b[p + 3] === (n & 0xff)
  }

  text (s: string): boolean {
    if (isAscii(s)) {
      if (!this.head(3, s.length)) return false
      const b = this.bytes
      const p = this.pos
      if (p + s.length > b.length) return false
      for (let i = 0; i < s.length; i++) if (b[p + i] !== s.charCodeAt(i)) return false
      this.pos = p + s.length
      return true
    }
    return this.raw(3, Buffer.from(s, 'utf8'))
  }

  raw (major: number, data: Uint8Array): boolean {
    if (!this.head(major, data.length)) return false
    const b = this.bytes
    const p = this.pos
    if (p + data.length > b.length) return false
    for (let i = 0; i < data.length; i++) if (b[p + i] !== data[i]) return false
    this.pos = p + data.length
    return true
  }

  value (v: unknown, depth: number): Match {
    if (depth > MAX_CBOR_DEPTH) return 'outside-model'
    switch (typeof v) {
      case 'string':
        return this.text(v) ? 'ok' : 'non-canonical'
      case 'boolean': {
        if (this.bytes[this.pos] !== (v ? 0xf5 : 0xf4)) return 'non-canonical'
        this.pos++
        return 'ok'
      }
      case 'number': {
        if (!Number.isSafeInteger(v) || Object.is(v, -0)) return 'outside-model'
        return (v >= 0 ? this.head(0, v) : this.head(1, -1 - v)) ? 'ok' : 'non-canonical'
      }
      case 'object': {
        if (v === null) return 'outside-model'
        if (v instanceof Uint8Array) return this.raw(2, v) ? 'ok' : 'non-canonical'
        if (Array.isArray(v)) {
          if (!this.head(4, v.length)) return 'non-canonical'
          for (let i = 0; i < v.length; i++) {
            const m = this.value(v[i], depth + 1)
            if (m !== 'ok') return m
          }
          return 'ok'
        }
        const proto = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) return 'outside-model'
        const keys = Object.keys(v).sort(compareKeys)
        if (!this.head(5, keys.length)) return 'non-canonical'
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i] as string
          if (!this.text(key)) return 'non-canonical'
          const m = this.value((v as Record<string, unknown>)[key], depth + 1)
          if (m !== 'ok') return m
        }
        return 'ok'
      }
      default:
        return 'outside-model'
    }
  }
}

/** Whether `bytes` are exactly the canonical encoding of `value`, or why not. */
export function matchesCanonical (value: unknown, bytes: Uint8Array): Match {
  const matcher = new Matcher(bytes)
  const m = matcher.value(value, 0)
  if (m !== 'ok') return m
  return matcher.pos === bytes.length ? 'ok' : 'non-canonical'
}
