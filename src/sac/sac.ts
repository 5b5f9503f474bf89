/**
 * Semantic Access Certificates (paper §4.3): signed, offline-delegable,
 * location-independent grants. One certificate says: `issuer` lets `audience`
 * exercise `abilities` on `resource`, under the authority of `subject` (the
 * data owner), between `notBefore` and `expiry`, and may pass on a narrower
 * grant `depth` more times. `parents` names the certificate it narrows.
 */
import { randomBytes } from 'node:crypto'
import { ABILITIES } from './abilities.js'
import type { Ability } from './abilities.js'
import { ID_BYTES, MAX_DELEGATION_DEPTH, MAX_GROUP_NAME_LENGTH, MAX_PURPOSE_LENGTH, NONCE_BYTES } from './constants.js'
import type { Signer } from './ed25519.js'
import { signRecord, verifyRecord } from './envelope.js'
import { InvalidCertificateError, MalformedRecordError, SignatureError } from './errors.js'
import { SAC_RECORD } from './record-types.js'
import { normalizeSelector, parseKey, parseResource } from './selector.js'
import type { Resource } from './selector.js'
import { bytes, compareStrings, deepFreeze, equalBytes, fail, hex, int, list, sortedUnique, strictMap, text } from './validate.js'

/** Latest accepted time: 9999-12-31T23:59:59Z, in Unix seconds. */
const MAX_TIME = 253_402_300_799
/** Group names: `cardiologists`, `radiology.residents`. */
const GROUP_NAME = new RegExp(`^[a-z0-9][a-z0-9._-]{0,${MAX_GROUP_NAME_LENGTH - 1}}$`)
/**
 * Purpose of use is a code, not prose (it is audited, and prose invites
 * patient details), e.g. HL7 v3 PurposeOfUse `TREAT`, `HRESCH`, `ETREAT`.
 */
const PURPOSE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_PURPOSE_LENGTH - 1}}$`)
const abilitySet: ReadonlySet<string> = new Set(ABILITIES)

export function parseTime (value: unknown, path: string): number {
  return int(value, path, 0, MAX_TIME)
}
export function parseNonce (value: unknown, path: string): Uint8Array {
  return bytes(value, path, NONCE_BYTES)
}
export function parseId (value: unknown, path: string): Uint8Array {
  return bytes(value, path, ID_BYTES)
}
export function parseGroupName (value: unknown, path: string): string {
  return text(value, path, GROUP_NAME, 'a group name')
}

export type Audience =
  | { key: Uint8Array }
  | { group: { root: Uint8Array, name: string } }

function parseAudience (value: unknown, path: string): Audience {
  const m = strictMap(value, path, [], ['key', 'group'])
  if (m.key !== undefined && m.group === undefined) return { key: parseKey(m.key, `${path}.key`) }
  if (m.group !== undefined && m.key === undefined) {
    const g = strictMap(m.group, `${path}.group`, ['root', 'name'])
    return { group: { root: parseKey(g.root, `${path}.group.root`), name: parseGroupName(g.name, `${path}.group.name`) } }
  }
  return fail(path, 'expected exactly one of key, group')
}

function parseAbility (value: unknown, path: string): Ability {
  if (typeof value !== 'string' || !abilitySet.has(value)) fail(path, 'expected a known ability')
  return value as Ability
}

export interface SacPayload {
  issuer: Uint8Array
  audience: Audience
  /** The data owner whose authority the chain must end at. */
  subject: Uint8Array
  resource: Resource
  /** Sorted, unique. */
  abilities: Ability[]
  /** Unix seconds. */
  notBefore: number
  expiry: number
  /** Remaining delegation depth. */
  depth: number
  /** Id of the parent certificate; empty for a root. v1 chains are linear: at most one. */
  parents: Uint8Array[]
  nonce: Uint8Array
  /** Purpose-of-use code: audited, grants nothing. */
  purpose: string
}

const SAC_FIELDS = ['issuer', 'audience', 'subject', 'resource', 'abilities', 'notBefore', 'expiry', 'depth', 'parents', 'nonce', 'purpose']

/** Validates a decoded certificate payload; unknown fields are rejected. Throws MalformedRecordError. */
export function parseSacPayload (value: unknown): SacPayload {
  const m = strictMap(value, 'certificate', SAC_FIELDS)
  const payload: SacPayload = {
    issuer: parseKey(m.issuer, 'issuer'),
    audience: parseAudience(m.audience, 'audience'),
    subject: parseKey(m.subject, 'subject'),
    resource: parseResource(m.resource, 'resource'),
    abilities: sortedUnique(list(m.abilities, 'abilities', 1, ABILITIES.length, parseAbility), 'abilities', compareStrings) as Ability[],
    notBefore: parseTime(m.notBefore, 'notBefore'),
    expiry: parseTime(m.expiry, 'expiry'),
    depth: int(m.depth, 'depth', 0, MAX_DELEGATION_DEPTH),
    parents: list(m.parents, 'parents', 0, 1, parseId),
    nonce: parseNonce(m.nonce, 'nonce'),
    purpose: text(m.purpose, 'purpose', PURPOSE, 'a purpose-of-use code')
  }
  if (payload.expiry <= payload.notBefore) fail('expiry', 'must be after notBefore')
  return payload
}

/** A certificate whose encoding, schema and signature were verified. */
export interface Certificate extends SacPayload {
  /** Hex SHA-256 of the signed message. */
  readonly id: string
  /** Hex ids of `parents`. */
  readonly parentIds: readonly string[]
  /** The envelope bytes, as verified. */
  readonly bytes: Uint8Array
}

/**
 * Verifies certificate bytes: envelope, canonical CBOR, strict schema (unknown
 * fields rejected), strict signature, and that the signer is the issuer.
 * Throws the errors of `verifyRecord`, or MalformedRecordError.
 */
export function openCertificate (bytes: Uint8Array): Certificate {
  const record = verifyRecord(bytes, SAC_RECORD)
  const p = parseSacPayload(record.value)
  if (!equalBytes(record.signer, p.issuer)) throw new SignatureError('BAD_SIGNATURE', 'certificate signed by another key than its issuer')
  return deepFreeze({
    issuer: p.issuer,
    audience: p.audience,
    subject: p.subject,
    resource: p.resource,
    abilities: p.abilities,
    notBefore: p.notBefore,
    expiry: p.expiry,
    depth: p.depth,
    parents: p.parents,
    nonce: p.nonce,
    purpose: p.purpose,
    id: record.id,
    parentIds: p.parents.map(hex),
    bytes: record.bytes
  })
}

/** Fields of a new certificate; times are Unix seconds. */
export interface CertificateFields {
  /** A user key, or a group `{ root, name }`. */
  audience: Uint8Array | { root: Uint8Array, name: string }
  /** The data owner; defaults to the signer (a root certificate). */
  subject?: Uint8Array
  resource: Resource
  abilities: readonly Ability[]
  notBefore: number
  expiry: number
  /** Remaining delegation depth, 0 (default) … 4. */
  depth?: number
  /** Hex id of the parent certificate (none for a root). */
  parent?: string
  purpose: string
  /** 16 random bytes unless given (tests). */
  nonce?: Uint8Array
}

/** The audience in payload form. */
export function toAudience (audience: CertificateFields['audience']): Audience {
  return audience instanceof Uint8Array ? { key: audience } : { group: { root: audience.root, name: audience.name } }
}

function normalizeResource (resource: Resource): Resource {
  if ('file' in resource) return { file: { owner: resource.file.owner, contentId: resource.file.contentId } }
  return { selector: normalizeSelector(resource.selector) }
}

/** The payload `fields` describe, checked against the schema (throws InvalidCertificateError). */
export function certificatePayload (fields: CertificateFields, issuer: Uint8Array): SacPayload {
  const payload = {
    issuer,
    audience: toAudience(fields.audience),
    subject: fields.subject ?? issuer,
    resource: normalizeResource(fields.resource),
    abilities: [...new Set(fields.abilities)].sort(),
    notBefore: fields.notBefore,
    expiry: fields.expiry,
    depth: fields.depth ?? 0,
    parents: fields.parent === undefined ? [] : [Uint8Array.from(Buffer.from(fields.parent, 'hex'))],
    nonce: fields.nonce ?? new Uint8Array(randomBytes(NONCE_BYTES)),
    purpose: fields.purpose
  }
  try {
    return parseSacPayload(payload)
  } catch (err) {
    if (err instanceof MalformedRecordError) throw new InvalidCertificateError(err.message)
    throw err
  }
}

/**
 * Signs a certificate as given. It checks the schema only: a root grant, or a
 * deliberately odd certificate in a test. To hand on a narrower right, use
 * `delegate()`, which refuses to widen.
 */
export function issueCertificate (fields: CertificateFields, signer: Signer): Certificate {
  const payload = certificatePayload(fields, signer.publicKey)
  const { bytes } = signRecord(SAC_RECORD, payload, signer)
  return openCertificate(bytes)
}

/** A certificate as plain JSON (keys and ids in hex), for `dm2 sac inspect` and logs of the issuer's own tools. */
export function certificateToJSON (cert: Certificate): Record<string, unknown> {
  const resource = 'file' in cert.resource
    ? { file: { owner: hex(cert.resource.file.owner), contentId: cert.resource.file.contentId } }
    : { selector: { ...cert.resource.selector, ...(cert.resource.selector.owner === undefined ? {} : { owner: cert.resource.selector.owner.map(hex) }) } }
  const audience = 'key' in cert.audience
    ? { key: hex(cert.audience.key) }
    : { group: { root: hex(cert.audience.group.root), name: cert.audience.group.name } }
  return {
    id: cert.id,
    issuer: hex(cert.issuer),
    audience,
    subject: hex(cert.subject),
    resource,
    abilities: [...cert.abilities],
    notBefore: new Date(cert.notBefore * 1000).toISOString(),
    expiry: new Date(cert.expiry * 1000).toISOString(),
    depth: cert.depth,
    parents: [...cert.parentIds],
    nonce: hex(cert.nonce),
    purpose: cert.purpose
  }
}
