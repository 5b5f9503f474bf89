/**
 * Strict, deterministic CBOR (RFC 8949 §4.2 core deterministic encoding) for
 * everything that crosses a node boundary: string map keys, integers only (no
 * floats, no bigints), no tags, no undefined, no indefinite lengths, duplicate
 * keys rejected, and the decoded value must re-encode to the very same bytes.
 */
import { decode, encode } from 'cborg'

/** Bytes that are not strict, canonical CBOR, or exceed the size limit. */
export class CborError extends Error {
  static override name = 'CborError'

  constructor (message: string) {
    super(message)
    this.name = 'CborError'
  }
}

const DECODE_OPTIONS = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  useMaps: false,
  tags: []
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

function checkValue (value: unknown, depth: number): void {
  if (depth > 32) throw new CborError('nesting too deep')
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || value instanceof Uint8Array) return
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new CborError('only safe integers are allowed')
    return
  }
  if (Array.isArray(value)) {
    for (const v of value) checkValue(v, depth + 1)
    return
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) checkValue(v, depth + 1)
    return
  }
  throw new CborError(`value of type ${typeof value} cannot be encoded`)
}

/** Encodes a value of plain objects, arrays, strings, safe integers, booleans, null and bytes. */
export function encodeCbor (value: unknown): Uint8Array {
  checkValue(value, 0)
  // cborg sorts map keys by length then bytes (RFC 8949 §4.2.1) and uses the shortest forms.
  return encode(value)
}

/** Decodes strict, canonical CBOR no longer than `maxBytes`; throws `CborError` otherwise. */
export function decodeCbor (bytes: Uint8Array, maxBytes: number): unknown {
  if (bytes.byteLength > maxBytes) throw new CborError(`${bytes.byteLength} bytes exceed the limit of ${maxBytes}`)
  let value: unknown
  try {
    value = decode(bytes, DECODE_OPTIONS)
  } catch (err) {
    throw new CborError(`invalid CBOR: ${(err as Error).message}`)
  }
  checkValue(value, 0)
  if (!equalBytes(encode(value), bytes)) throw new CborError('CBOR is not in canonical form')
  return value
}
