/**
 * The signed envelope: the one way anything is signed in DM².
 *
 *   envelope = canonical CBOR map { type, version, payload, signer, signature }
 *   payload  = canonical CBOR bytes of the record (opaque at this level)
 *   message  = CBOR([context, type, version]) ‖ payload      (domain-separated)
 *   signature = Ed25519(signer, message)                      (strict rule, ed25519.ts)
 *   id       = SHA-256(message)                               (never over the signature)
 *
 * Because the id covers the signed message and not the signature, a record has
 * one id whoever re-encodes or re-signs it, and an m-of-n record (the roster)
 * is several envelopes with the same id. The header binds type and version, so
 * a record re-labelled as another type fails its signature.
 */
import { hash } from 'node:crypto'
import { MAX_ENVELOPE_BYTES, KEY_BYTES, SIGNATURE_BYTES } from './constants.js'
import { decodeCanonical, encodeCanonical, isMap } from './cbor.js'
import type { CborValue } from './cbor.js'
import { checkSignature, keyId } from './ed25519.js'
import type { Signer } from './ed25519.js'
import { readCanonicalEnvelope } from './envelope-fast.js'
import { MalformedRecordError, SignatureError, WrongRecordTypeError } from './errors.js'
import type { RecordType } from './record-types.js'

export interface Envelope {
  readonly type: string
  readonly version: number
  /** Canonical CBOR of the record. */
  readonly payload: Uint8Array
  /** Raw 32-byte Ed25519 key of the signer. */
  readonly signer: Uint8Array
  readonly signature: Uint8Array
}

/** A record whose envelope, encoding and signature all passed. */
export interface VerifiedRecord {
  /** Lowercase hex SHA-256 of the signed message. */
  readonly id: string
  readonly type: string
  readonly version: number
  readonly signer: Uint8Array
  /** The decoded payload; its schema is the caller's to check. */
  readonly value: CborValue
  /** The exact envelope bytes that were verified. */
  readonly bytes: Uint8Array
}

const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['payload', 'signature', 'signer', 'type', 'version'])

function toEnvelope (value: CborValue): Envelope {
  if (!isMap(value)) throw new MalformedRecordError('envelope is not a map')
  // Five own keys, each one of the five expected: exactly the expected set.
  let count = 0
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    if (!ENVELOPE_KEYS.has(key)) throw new MalformedRecordError('envelope must have exactly type, version, payload, signer, signature')
    count++
  }
  if (count !== ENVELOPE_KEYS.size) throw new MalformedRecordError('envelope must have exactly type, version, payload, signer, signature')
  const { type, version, payload, signer, signature } = value
  if (typeof type !== 'string' || type.length > 64) throw new MalformedRecordError('envelope type must be a short string')
  if (typeof version !== 'number' || version < 1) throw new MalformedRecordError('envelope version must be a positive integer')
  if (!(payload instanceof Uint8Array)) throw new MalformedRecordError('envelope payload must be bytes')
  if (!(signer instanceof Uint8Array) || signer.length !== KEY_BYTES) throw new MalformedRecordError('envelope signer must be a 32-byte key')
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) throw new MalformedRecordError('envelope signature must be 64 bytes')
  return { type, version, payload, signer, signature }
}

/** Canonical bytes of an envelope. */
export function encodeEnvelope (envelope: Envelope, maxBytes = MAX_ENVELOPE_BYTES): Uint8Array {
  const { type, version, payload, signer, signature } = envelope
  toEnvelope({ type, version, payload, signer, signature })
  return encodeCanonical({ type, version, payload, signer, signature }, maxBytes)
}

/** Strictly decodes envelope bytes (structure and canonical form only; no signature check). */
export function decodeEnvelope (bytes: Uint8Array, maxBytes = MAX_ENVELOPE_BYTES): Envelope {
  const limit = Math.min(maxBytes, MAX_ENVELOPE_BYTES)
  if (bytes instanceof Uint8Array && bytes.length <= limit) {
    const fast = readCanonicalEnvelope(bytes)
    if (fast !== undefined) return fast
  }
  // Anything else takes the general path, which decodes, re-encodes and says precisely what is wrong.
  return toEnvelope(decodeCanonical(bytes, limit))
}

/** The domain-separated bytes a signature covers. */
export function signedMessage (recordType: RecordType, payload: Uint8Array): Uint8Array {
  return Buffer.concat([recordType.header, payload])
}

function sha256Hex (message: Uint8Array): string {
  return hash('sha256', message, 'hex')
}

/** A record's id: SHA-256 of its signed message, hex. */
export function recordId (recordType: RecordType, payload: Uint8Array): string {
  return sha256Hex(signedMessage(recordType, payload))
}

/** Encodes `value` canonically, signs it as `recordType`, returns the envelope bytes and the id. */
export function signRecord (recordType: RecordType, value: unknown, signer: Signer): { bytes: Uint8Array, id: string } {
  const payload = encodeCanonical(value, recordType.maxBytes)
  const message = signedMessage(recordType, payload)
  const signature = signer.sign(message)
  const bytes = encodeEnvelope({ type: recordType.type, version: recordType.version, payload, signer: signer.publicKey, signature }, recordType.maxBytes)
  return { bytes, id: sha256Hex(message) }
}

/**
 * Verifies envelope bytes as a record of `recordType`: size, canonical
 * envelope, type and version, canonical payload, strict signature. Throws
 * MalformedRecordError, NonCanonicalError, WrongRecordTypeError or
 * SignatureError (each with its `reason` code).
 */
export function verifyRecord (input: Uint8Array, recordType: RecordType): VerifiedRecord {
  if (!(input instanceof Uint8Array)) throw new MalformedRecordError('not a byte array')
  if (input.length > recordType.maxBytes) throw new MalformedRecordError(`size ${input.length} exceeds ${recordType.maxBytes} bytes`)
  // The record keeps (and the cache shares) the envelope bytes: take a private
  // copy, so a caller reusing its buffer cannot change a verified record.
  const bytes = Uint8Array.from(input)
  const envelope = decodeEnvelope(bytes, recordType.maxBytes)
  if (envelope.type !== recordType.type || envelope.version !== recordType.version) {
    throw new WrongRecordTypeError(`${recordType.type} v${recordType.version}`, `${envelope.type} v${envelope.version}`)
  }
  // Cheap structural checks before the expensive signature check.
  const value = decodeCanonical(envelope.payload, recordType.maxBytes)
  const message = signedMessage(recordType, envelope.payload)
  const check = checkSignature(envelope.signature, message, envelope.signer)
  if (check !== 'ok') {
    throw new SignatureError(check, `${recordType.type} signature rejected (${check}) for signer ${keyId(envelope.signer).slice(0, 16)}…`)
  }
  return { id: sha256Hex(message), type: envelope.type, version: envelope.version, signer: envelope.signer, value, bytes }
}

/**
 * The id a record claims, without verifying anything: for audit trails of
 * denied requests. Undefined when the bytes are not an envelope of a known type.
 */
export function peekRecordId (bytes: Uint8Array, recordType: RecordType): string | undefined {
  try {
    const envelope = decodeEnvelope(bytes, recordType.maxBytes)
    if (envelope.type !== recordType.type || envelope.version !== recordType.version) return undefined
    return recordId(recordType, envelope.payload)
  } catch {
    return undefined
  }
}
