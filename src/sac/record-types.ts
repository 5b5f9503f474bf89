/**
 * The kinds of signed record in DM². Each has a type name, a version and a
 * fixed signing context: a signature made for one kind can never be taken for
 * another (domain separation, as RFC 8032's Ed25519ctx or RFC 9180's labels
 * do), and a new version of a format never verifies as an old one.
 *
 * Other areas define their own kinds with `defineRecordType`; the ones the
 * issue names are defined here so that their contexts are fixed in one place.
 */
import { encode } from 'cborg'
import {
  MAX_DHT_RECORD_BYTES, MAX_ENVELOPE_BYTES, MAX_INVOCATION_BYTES, MAX_MANIFEST_BYTES, MAX_MEMBERSHIP_BYTES,
  MAX_REVOCATION_BYTES, MAX_ROSTER_BYTES, MAX_SAC_BYTES
} from './constants.js'
import { RecordTypeConflictError } from './errors.js'

export interface RecordType {
  /** `dm2/<kind>`, e.g. `dm2/sac`. */
  readonly type: string
  /** Format version, a positive integer. */
  readonly version: number
  /** Fixed signing context, unique across all record types. */
  readonly context: string
  /** Hard cap on the whole envelope's size. */
  readonly maxBytes: number
  /** Canonical CBOR of [context, type, version]: the signed-message prefix. */
  readonly header: Uint8Array
}

const byKey = new Map<string, RecordType>()
const contexts = new Set<string>()

const TYPE_PATTERN = /^dm2\/[a-z][a-z0-9-]{0,31}$/

/** Registers a record type; the same definition twice is fine, a clash is a programming error. */
export function defineRecordType (spec: { type: string, version: number, context: string, maxBytes: number }): RecordType {
  const { type, version, context, maxBytes } = spec
  if (!TYPE_PATTERN.test(type)) throw new RecordTypeConflictError(`record type ${JSON.stringify(type)} must match ${TYPE_PATTERN}`)
  if (!Number.isSafeInteger(version) || version < 1) throw new RecordTypeConflictError(`${type}: version must be a positive integer`)
  if (typeof context !== 'string' || context.length < 8 || context.length > 128) throw new RecordTypeConflictError(`${type}: context must be 8–128 characters`)
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 64 || maxBytes > MAX_ENVELOPE_BYTES) {
    throw new RecordTypeConflictError(`${type}: maxBytes must be within 64…${MAX_ENVELOPE_BYTES}`)
  }
  const key = `${type}@${version}`
  const existing = byKey.get(key)
  if (existing !== undefined) {
    if (existing.context === context && existing.maxBytes === maxBytes) return existing
    throw new RecordTypeConflictError(`${key} is already defined differently`)
  }
  if (contexts.has(context)) throw new RecordTypeConflictError(`signing context ${JSON.stringify(context)} is already used`)
  const recordType: RecordType = Object.freeze({ type, version, context, maxBytes, header: encode([context, type, version]) })
  byKey.set(key, recordType)
  contexts.add(context)
  return recordType
}

/** The registered type for a name and version, if any. */
export function lookupRecordType (type: string, version: number): RecordType | undefined {
  return byKey.get(`${type}@${version}`)
}

/** Semantic access certificate (sac.ts). */
export const SAC_RECORD = defineRecordType({ type: 'dm2/sac', version: 1, context: 'DM2 semantic access certificate v1', maxBytes: MAX_SAC_BYTES })
/** Group membership, signed by the group's root (membership.ts). */
export const MEMBERSHIP_RECORD = defineRecordType({ type: 'dm2/membership', version: 1, context: 'DM2 group membership v1', maxBytes: MAX_MEMBERSHIP_BYTES })
/** A user's signed request to one server (invocation.ts). */
export const INVOCATION_RECORD = defineRecordType({ type: 'dm2/invocation', version: 1, context: 'DM2 invocation v1', maxBytes: MAX_INVOCATION_BYTES })
/** Revocation of a certificate by an issuer in its chain (revocation protocol, later). */
export const REVOCATION_RECORD = defineRecordType({ type: 'dm2/revocation', version: 1, context: 'DM2 certificate revocation v1', maxBytes: MAX_REVOCATION_BYTES })
/** The federation roster, signed by the authority key(s) (roster, later). */
export const ROSTER_RECORD = defineRecordType({ type: 'dm2/roster', version: 1, context: 'DM2 federation roster v1', maxBytes: MAX_ROSTER_BYTES })
/** Signed metadata/replica records stored in the DHT (dht, later). */
export const DHT_RECORD = defineRecordType({ type: 'dm2/dht-record', version: 1, context: 'DM2 DHT record v1', maxBytes: MAX_DHT_RECORD_BYTES })
/** Chunk manifests of encrypted volumes (privacy/cache, later). */
export const MANIFEST_RECORD = defineRecordType({ type: 'dm2/manifest', version: 1, context: 'DM2 chunk manifest v1', maxBytes: MAX_MANIFEST_BYTES })
