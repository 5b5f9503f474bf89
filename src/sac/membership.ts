/**
 * Group membership certificates: a clinic's root key says "this key is one of
 * my cardiologists until tomorrow". A certificate addressed to the group
 * `{ root, name }` is usable by any key holding a valid, short-lived membership
 * signed by that root — the clinic manages its staff without re-issuing grants.
 */
import { randomBytes } from 'node:crypto'
import { DEFAULT_MAX_MEMBERSHIP_LIFETIME_S, NONCE_BYTES } from './constants.js'
import type { Signer } from './ed25519.js'
import { signRecord, verifyRecord } from './envelope.js'
import { InvalidCertificateError, MalformedRecordError, SignatureError } from './errors.js'
import { MEMBERSHIP_RECORD } from './record-types.js'
import { parseGroupName, parseNonce, parseTime } from './sac.js'
import { parseKey } from './selector.js'
import { deepFreeze, equalBytes, fail, strictMap } from './validate.js'

export interface MembershipPayload {
  /** The group's root key (the clinic), which signs. */
  root: Uint8Array
  group: string
  member: Uint8Array
  /** Unix seconds. */
  notBefore: number
  expiry: number
  nonce: Uint8Array
}

/** Validates a decoded membership payload; unknown fields are rejected. */
export function parseMembershipPayload (value: unknown): MembershipPayload {
  const m = strictMap(value, 'membership', ['root', 'group', 'member', 'notBefore', 'expiry', 'nonce'])
  const payload: MembershipPayload = {
    root: parseKey(m.root, 'root'),
    group: parseGroupName(m.group, 'group'),
    member: parseKey(m.member, 'member'),
    notBefore: parseTime(m.notBefore, 'notBefore'),
    expiry: parseTime(m.expiry, 'expiry'),
    nonce: parseNonce(m.nonce, 'nonce')
  }
  if (payload.expiry <= payload.notBefore) fail('expiry', 'must be after notBefore')
  return payload
}

export interface Membership extends MembershipPayload {
  readonly id: string
  readonly bytes: Uint8Array
}

/** Verifies membership bytes (envelope, schema, signature by the root). */
export function openMembership (bytes: Uint8Array): Membership {
  const record = verifyRecord(bytes, MEMBERSHIP_RECORD)
  const p = parseMembershipPayload(record.value)
  if (!equalBytes(record.signer, p.root)) throw new SignatureError('BAD_SIGNATURE', 'membership signed by another key than its root')
  return deepFreeze({ ...p, id: record.id, bytes: record.bytes })
}

export interface MembershipFields {
  group: string
  member: Uint8Array
  /** Unix seconds. */
  notBefore: number
  expiry: number
  nonce?: Uint8Array
}

/** Signs a membership with the group's root key; refuses lifetimes above the verifier's default cap. */
export function issueMembership (fields: MembershipFields, root: Signer, maxLifetimeS = DEFAULT_MAX_MEMBERSHIP_LIFETIME_S): Membership {
  const payload = {
    root: root.publicKey,
    group: fields.group,
    member: fields.member,
    notBefore: fields.notBefore,
    expiry: fields.expiry,
    nonce: fields.nonce ?? new Uint8Array(randomBytes(NONCE_BYTES))
  }
  try {
    parseMembershipPayload(payload)
  } catch (err) {
    if (err instanceof MalformedRecordError) throw new InvalidCertificateError(err.message)
    throw err
  }
  if (payload.expiry - payload.notBefore > maxLifetimeS) throw new InvalidCertificateError(`memberships live at most ${maxLifetimeS} s`)
  return openMembership(signRecord(MEMBERSHIP_RECORD, payload, root).bytes)
}
