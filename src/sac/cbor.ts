/**
 * Deterministic CBOR for everything that is signed: one value, one byte string.
 *
 * The data model is deliberately small: maps with text keys, arrays, text
 * strings, byte strings, safe integers and booleans. No floats, no null or
 * undefined, no tags, no indefinite lengths, no duplicate keys, bounded depth.
 * Encoding follows RFC 8949 §4.2.1 (core deterministic encoding): shortest
 * integer and length forms, definite lengths, map keys sorted bytewise by their
 * encoding. cborg's default key order (length first, then bytes; RFC 7049
 * §3.9) is that same order when every key is a text string, which the data
 * model guarantees.
 *
 * Decoding is strict twice over: cborg's strict options reject what they can
 * (non-minimal integers and lengths, indefinite lengths, duplicate keys, tags,
 * big integers, NaN/Infinity, undefined), then the value is checked against
 * the data model and re-encoded, and must give back the very same bytes —
 * which also catches key order, floats that hold integers, `-0` and invalid
 * UTF-8. The re-encoding is compared as it is produced (canonical.ts), without
 * building a byte array: it runs on every certificate verified.
 */
import { decode, encode } from 'cborg'
import type { DecodeOptions } from 'cborg'
import { matchesCanonical } from './canonical.js'
import { MAX_CBOR_DEPTH } from './constants.js'
import { MalformedRecordError, NonCanonicalError } from './errors.js'

/** A value of the signed-record data model. */
export type CborValue = string | number | boolean | Uint8Array | CborValue[] | { [key: string]: CborValue }

const DECODE_OPTIONS: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  coerceUndefinedToNull: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false
}

/**
 * Checks a value against the data model; returns a problem or undefined. Paths
 * are only built on failure (this runs on every verification).
 */
function problemIn (value: unknown, depth: number): string | undefined {
  if (depth > MAX_CBOR_DEPTH) return `nested deeper than ${MAX_CBOR_DEPTH}`
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? undefined : 'not a safe integer'
    case 'object': {
      if (value === null) return 'null is not allowed'
      if (value instanceof Uint8Array) return undefined
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const p = problemIn(value[i], depth + 1)
          if (p !== undefined) return `[${i}]${p.startsWith('[') || p.startsWith('.') ? '' : ': '}${p}`
        }
        return undefined
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return 'only plain objects are allowed'
      const keys = Object.keys(value)
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string
        const p = problemIn((value as Record<string, unknown>)[key], depth + 1)
        if (p !== undefined) return `.${key}${p.startsWith('[') || p.startsWith('.') ? '' : ': '}${p}`
      }
      return undefined
    }
    default:
      return `${typeof value} is not allowed`
  }
}

/** Canonical bytes of a data-model value; throws MalformedRecordError on anything outside the model. */
export function encodeCanonical (value: unknown, maxBytes: number): Uint8Array {
  const problem = problemIn(value, 0)
  if (problem !== undefined) throw new MalformedRecordError(`value${problem}`)
  const bytes = encode(value)
  if (bytes.length > maxBytes) throw new MalformedRecordError(`encoded size ${bytes.length} exceeds ${maxBytes} bytes`)
  return bytes
}

/**
 * Decodes bytes that must be the canonical encoding of a data-model value.
 * Throws MalformedRecordError (not CBOR, outside the model, too large) or
 * NonCanonicalError (valid CBOR, other bytes than the canonical encoding).
 */
export function decodeCanonical (bytes: Uint8Array, maxBytes: number): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new MalformedRecordError('not a byte array')
  if (bytes.length > maxBytes) throw new MalformedRecordError(`size ${bytes.length} exceeds ${maxBytes} bytes`)
  let value: unknown
  try {
    value = decode(bytes, DECODE_OPTIONS)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    // cborg's strict-mode complaints are about the encoding, not the content.
    if (/more bytes than necessary|indefinite length|repeat map key/.test(message)) throw new NonCanonicalError(message)
    throw new MalformedRecordError(message)
  }
  // One pass does both the data-model walk and the re-encode-and-compare (canonical.ts);
  // the slower walk runs only to name the problem.
  const match = matchesCanonical(value, bytes)
  if (match === 'ok') return value as CborValue
  const problem = problemIn(value, 0)
  if (problem !== undefined) throw new MalformedRecordError(`value${problem}`)
  throw new NonCanonicalError('not the canonical CBOR encoding of its value (RFC 8949 §4.2.1)')
}

/** True for a plain (non-array, non-bytes) map value. */
export function isMap (value: unknown): value is Record<string, CborValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}
