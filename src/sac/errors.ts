/**
 * The catalogue of access-control outcomes and errors. Every denial carries
 * exactly one reason code from `REASON_CODES`; errors thrown while decoding or
 * verifying a record carry the code they map to in `reason`. Tests assert on
 * `err.name` and `err.reason`.
 */

/** The closed set of reasons a request can be denied for. */
export const REASON_CODES = [
  /** Not decodable, wrong shape, unknown field, limit exceeded. */
  'MALFORMED',
  /** Decodes, but not in the one canonical form (CBOR bytes, signature S or R, key encoding). */
  'NON_CANONICAL',
  /** A record of another type where this one was expected (e.g. an invocation as a certificate). */
  'WRONG_TYPE',
  /** The signer key is a small-order point: anything "verifies" under it. */
  'WEAK_KEY',
  /** Signature does not verify, or the signer is not the issuer the record names. */
  'BAD_SIGNATURE',
  'EXPIRED',
  'NOT_YET_VALID',
  /** An invocation living longer than 120 s, a membership longer than its cap. */
  'LIFETIME_TOO_LONG',
  /** Invocation for another server, or a certificate whose audience is not the invoker. */
  'WRONG_AUDIENCE',
  /** The invocation names another requesting node than the noise-authenticated remote peer. */
  'WRONG_ORIGIN',
  /** The invocation's command or arguments hash differ from the request being served. */
  'INVOCATION_MISMATCH',
  'REPLAY',
  /** Links do not connect: parent ids, issuer ≠ previous audience, root not the subject, subject changes. */
  'BROKEN_CHAIN',
  'CHAIN_TOO_LONG',
  /** A link grants more than its parent: ability, resource, validity, depth, or delegating without `delegate`. */
  'ESCALATION',
  'REVOKED',
  /** A group audience without a valid membership certificate from the group's root. */
  'GROUP_INVALID',
  /** The requested resource is outside what the chain grants, or its owner is not the chain's subject. */
  'RESOURCE_MISMATCH',
  'ABILITY_MISSING',
  /** The replay cache is full of unexpired entries: refuse rather than forget. */
  'OVERLOADED',
  /** The audit sink refused the decision: no access that cannot be audited. */
  'AUDIT_FAILED',
  /** A dependency (revocation store, …) failed: fail closed. */
  'INTERNAL_ERROR'
] as const

export type ReasonCode = typeof REASON_CODES[number]

const reasonSet: ReadonlySet<string> = new Set(REASON_CODES)

/** True when `value` is one of the reason codes. */
export function isReasonCode (value: unknown): value is ReasonCode {
  return typeof value === 'string' && reasonSet.has(value)
}

/** Bytes that are not a well-formed record of the expected shape. */
export class MalformedRecordError extends Error {
  static override name = 'MalformedRecordError'
  readonly reason = 'MALFORMED' as const

  constructor (message: string) {
    super(message)
    this.name = 'MalformedRecordError'
  }
}

/** Well-formed, but not the canonical encoding (deterministic CBOR, RFC 8949 §4.2.1). */
export class NonCanonicalError extends Error {
  static override name = 'NonCanonicalError'
  readonly reason = 'NON_CANONICAL' as const

  constructor (message: string) {
    super(message)
    this.name = 'NonCanonicalError'
  }
}

/** A record of another type or version than the one expected. */
export class WrongRecordTypeError extends Error {
  static override name = 'WrongRecordTypeError'
  readonly reason = 'WRONG_TYPE' as const

  constructor (expected: string, got: string) {
    super(`expected a ${expected} record, got ${got}`)
    this.name = 'WrongRecordTypeError'
  }
}

/** The signature is rejected by the strict Ed25519 rule (see ed25519.ts). */
export class SignatureError extends Error {
  static override name = 'SignatureError'
  readonly reason: 'BAD_SIGNATURE' | 'WEAK_KEY' | 'NON_CANONICAL'

  constructor (reason: 'BAD_SIGNATURE' | 'WEAK_KEY' | 'NON_CANONICAL', message: string) {
    super(message)
    this.name = 'SignatureError'
    this.reason = reason
  }
}

/** A builder was given fields that no verifier would accept. */
export class InvalidCertificateError extends Error {
  static override name = 'InvalidCertificateError'
  readonly reason = 'MALFORMED' as const

  constructor (message: string) {
    super(message)
    this.name = 'InvalidCertificateError'
  }
}

/** `delegate()` was asked for a child that grants more than its parent. */
export class AttenuationError extends Error {
  static override name = 'AttenuationError'
  readonly reason = 'ESCALATION' as const

  constructor (message: string) {
    super(message)
    this.name = 'AttenuationError'
  }
}

/** Two record types claim the same name or signing context. A programming error. */
export class RecordTypeConflictError extends Error {
  static override name = 'RecordTypeConflictError'

  constructor (message: string) {
    super(message)
    this.name = 'RecordTypeConflictError'
  }
}

/** Thrown by `assertAllowed()` for handlers that prefer exceptions to decisions. */
export class AccessDeniedError extends Error {
  static override name = 'AccessDeniedError'
  readonly reason: ReasonCode

  constructor (reason: ReasonCode, detail: string) {
    super(`access denied: ${reason}${detail === '' ? '' : ` (${detail})`}`)
    this.name = 'AccessDeniedError'
    this.reason = reason
  }
}

/** The reason code an error maps to; anything unexpected is an internal error (fail closed). */
export function reasonOf (err: unknown): ReasonCode {
  if (err !== null && typeof err === 'object' && 'reason' in err && isReasonCode(err.reason)) return err.reason
  return 'INTERNAL_ERROR'
}

/** The error's message, for decision details (never sent to other hospitals verbatim). */
export function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
