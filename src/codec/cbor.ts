/**
 * Strict, deterministic CBOR for everything that crosses a node boundary.
 * One implementation serves the whole code base: the signed-record codec of
 * `src/sac/cbor.ts` (RFC 8949 §4.2 core deterministic encoding; text map keys,
 * safe integers, no floats/tags/undefined/null/indefinite lengths, duplicate
 * keys rejected, and decoding requires the bytes to re-encode identically).
 * This module only adds a size-unbounded encoder and one error type for
 * callers outside the access-control core.
 */
import { decodeCanonical, encodeCanonical } from '../sac/cbor.js'

/** Bytes that are not strict, canonical CBOR, or exceed the size limit. */
export class CborError extends Error {
  static override name = 'CborError'

  constructor (message: string) {
    super(message)
    this.name = 'CborError'
  }
}

/** Encodes plain objects, arrays, strings, safe integers, booleans and bytes. */
export function encodeCbor (value: unknown): Uint8Array {
  try {
    return encodeCanonical(value, Number.MAX_SAFE_INTEGER)
  } catch (err) {
    throw new CborError((err as Error).message)
  }
}

/** Decodes strict, canonical CBOR no longer than `maxBytes`; throws `CborError` otherwise. */
export function decodeCbor (bytes: Uint8Array, maxBytes: number): unknown {
  try {
    return decodeCanonical(bytes, maxBytes)
  } catch (err) {
    throw new CborError((err as Error).message)
  }
}
