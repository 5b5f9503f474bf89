/**
 * What a request carries on the wire to prove its right: the invocation, the
 * chain (root first) and any group memberships, as one canonical CBOR map of
 * byte strings with a hard size cap. Protocol handlers decode it and pass the
 * parts to `AccessControl.check`.
 */
import { decodeCanonical, encodeCanonical, isMap } from './cbor.js'
import { MAX_BUNDLE_BYTES, MAX_CHAIN_LENGTH } from './constants.js'
import { MalformedRecordError } from './errors.js'

export interface Authorization {
  invocation: Uint8Array
  chain: Uint8Array[]
  memberships: Uint8Array[]
}

function byteList (value: unknown, field: string, max: number): Uint8Array[] {
  if (!Array.isArray(value) || value.length > max || !value.every(v => v instanceof Uint8Array)) {
    throw new MalformedRecordError(`authorization ${field} must be at most ${max} byte strings`)
  }
  return value as Uint8Array[]
}

export function encodeAuthorization (auth: Authorization): Uint8Array {
  return encodeCanonical({ invocation: auth.invocation, chain: auth.chain, memberships: auth.memberships }, MAX_BUNDLE_BYTES)
}

/** Decodes and shape-checks a bundle (no signatures: that is the access check's job). */
export function decodeAuthorization (bytes: Uint8Array): Authorization {
  const value = decodeCanonical(bytes, MAX_BUNDLE_BYTES)
  if (!isMap(value)) throw new MalformedRecordError('authorization is not a map')
  const keys = Object.keys(value).sort().join(',')
  if (keys !== 'chain,invocation,memberships') throw new MalformedRecordError('authorization must have exactly invocation, chain, memberships')
  if (!(value.invocation instanceof Uint8Array)) throw new MalformedRecordError('authorization invocation must be bytes')
  return {
    invocation: value.invocation,
    // Longer chains decode, so that the access check reports CHAIN_TOO_LONG for them.
    chain: byteList(value.chain, 'chain', 2 * MAX_CHAIN_LENGTH),
    memberships: byteList(value.memberships, 'memberships', MAX_CHAIN_LENGTH)
  }
}
