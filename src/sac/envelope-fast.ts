/**
 * The envelope's one canonical byte layout, read directly. An envelope is a
 * 5-entry map whose keys, order (RFC 8949 §4.2.1: shorter keys first, then
 * bytewise) and value types are fixed, so its canonical encoding is
 *
 *   a5 | "type" text | "signer" bstr(32) | "payload" bstr | "version" uint | "signature" bstr(64)
 *
 * with every length and integer in its shortest form. Bytes that match this
 * layout exactly are, by construction, the re-encoding of what they decode to;
 * anything else returns undefined and goes through the general decoder
 * (cbor.ts), which decodes with cborg, re-encodes and compares. This saves a
 * decode and an encode on every certificate verified; a property test checks
 * both paths agree.
 */
import { KEY_BYTES, SIGNATURE_BYTES } from './constants.js'
import type { Envelope } from './envelope.js'

const ascii = (s: string): number[] => [...s].map(c => c.charCodeAt(0))
/** Text-string encodings of the keys: 0x60 + length, then the characters. */
const KEY_TYPE = [0x64, ...ascii('type')]
const KEY_SIGNER = [0x66, ...ascii('signer')]
const KEY_PAYLOAD = [0x67, ...ascii('payload')]
const KEY_VERSION = [0x67, ...ascii('version')]
const KEY_SIGNATURE = [0x69, ...ascii('signature')]

class Reader {
  pos = 0
  constructor (readonly bytes: Uint8Array) {}

  expect (expected: readonly number[]): boolean {
    const { bytes, pos } = this
    if (pos + expected.length > bytes.length) return false
    for (let i = 0; i < expected.length; i++) if (bytes[pos + i] !== expected[i]) return false
    this.pos += expected.length
    return true
  }

  /** A head of major type `major` in its shortest form (RFC 8949 §4.2.1); -1 if not. */
  head (major: number): number {
    const { bytes } = this
    const first = bytes[this.pos]
    if (first === undefined || first >> 5 !== major) return -1
    const info = first & 0x1f
    this.pos++
    if (info < 24) return info
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0
    if (size === 0 || this.pos + size > bytes.length) return -1 // 8-byte lengths are never needed here
    let value = 0
    for (let i = 0; i < size; i++) value = value * 256 + (bytes[this.pos + i] as number)
    this.pos += size
    const min = size === 1 ? 24 : size === 2 ? 256 : 65536
    return value >= min ? value : -1
  }

  take (length: number): Uint8Array | undefined {
    if (length < 0 || this.pos + length > this.bytes.length) return undefined
    // A copy: verified records never alias the caller's buffer.
    const out = this.bytes.slice(this.pos, this.pos + length)
    this.pos += length
    return out
  }
}

/** The envelope if `bytes` are exactly its canonical encoding with a printable-ASCII type; else undefined. */
export function readCanonicalEnvelope (bytes: Uint8Array): Envelope | undefined {
  const r = new Reader(bytes)
  if (bytes[0] !== 0xa5) return undefined
  r.pos = 1
  if (!r.expect(KEY_TYPE)) return undefined
  const typeLength = r.head(3)
  if (typeLength < 1 || typeLength > 64 || r.pos + typeLength > bytes.length) return undefined
  let type = ''
  for (let i = 0; i < typeLength; i++) {
    const c = bytes[r.pos + i] as number
    if (c < 0x20 || c > 0x7e) return undefined
    type += String.fromCharCode(c)
  }
  r.pos += typeLength
  if (!r.expect(KEY_SIGNER) || r.head(2) !== KEY_BYTES) return undefined
  const signer = r.take(KEY_BYTES)
  if (signer === undefined || !r.expect(KEY_PAYLOAD)) return undefined
  const payload = r.take(r.head(2))
  if (payload === undefined || !r.expect(KEY_VERSION)) return undefined
  const version = r.head(0)
  if (version < 1 || !r.expect(KEY_SIGNATURE) || r.head(2) !== SIGNATURE_BYTES) return undefined
  const signature = r.take(SIGNATURE_BYTES)
  if (signature === undefined || r.pos !== bytes.length) return undefined
  return { type, version, payload, signer, signature }
}
