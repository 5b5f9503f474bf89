/**
 * Attenuation: the rules a child certificate must follow relative to its
 * parent, shared by the verifier (chain.ts) and the builder (`delegate`), so
 * that what one builds the other accepts and nothing else.
 */
import { abilitiesBeyond } from './abilities.js'
import type { Ability } from './abilities.js'
import type { Signer } from './ed25519.js'
import { AttenuationError, InvalidCertificateError } from './errors.js'
import type { ReasonCode } from './errors.js'
import { certificatePayload, issueCertificate } from './sac.js'
import type { Certificate, CertificateFields, SacPayload } from './sac.js'
import { resourceWiderThan } from './selector.js'
import type { Resource } from './selector.js'
import { equalBytes } from './validate.js'

export interface LinkProblem {
  reason: ReasonCode
  detail: string
}

const sameKey = equalBytes

/**
 * Why `child` may not follow `parent` in a chain, or undefined. Audience →
 * issuer linking is checked by the caller (it may need a group membership).
 */
export function linkProblem (child: SacPayload & { parentIds: readonly string[] }, parent: Certificate): LinkProblem | undefined {
  if (child.parentIds.length !== 1 || child.parentIds[0] !== parent.id) {
    return { reason: 'BROKEN_CHAIN', detail: 'does not name the previous certificate as its parent' }
  }
  if (!sameKey(child.subject, parent.subject)) return { reason: 'BROKEN_CHAIN', detail: 'subject differs from the parent\'s' }
  if (!parent.abilities.includes('delegate') || parent.depth < 1) {
    return { reason: 'ESCALATION', detail: 'the parent does not allow delegation' }
  }
  if (child.depth >= parent.depth) return { reason: 'ESCALATION', detail: 'delegation depth does not decrease' }
  const beyond = abilitiesBeyond(child.abilities, parent.abilities)
  if (beyond.length > 0) return { reason: 'ESCALATION', detail: `abilities beyond the parent's: ${beyond.join(', ')}` }
  const wider = resourceWiderThan(child.resource, parent.resource)
  if (wider !== undefined) return { reason: 'ESCALATION', detail: `resource wider than the parent's: ${wider}` }
  if (child.notBefore < parent.notBefore || child.expiry > parent.expiry) {
    return { reason: 'ESCALATION', detail: 'validity outside the parent\'s' }
  }
  return undefined
}

/** What a delegation may change; everything else is inherited from the parent. */
export interface Narrowing {
  /** Who receives the right: a user key or a group. */
  audience: CertificateFields['audience']
  abilities?: readonly Ability[]
  resource?: Resource
  notBefore?: number
  expiry?: number
  /** Defaults to the parent's depth − 1. */
  depth?: number
  purpose?: string
  nonce?: Uint8Array
}

/**
 * Issues a child of `parent`, signed by `signer` (the parent's audience),
 * granting at most what the parent grants. Throws AttenuationError when the
 * narrowing would widen anything, InvalidCertificateError on bad fields.
 */
export function delegate (parent: Certificate, narrowing: Narrowing, signer: Signer): Certificate {
  if ('key' in parent.audience && !sameKey(parent.audience.key, signer.publicKey)) {
    throw new InvalidCertificateError('only the parent\'s audience can delegate it')
  }
  const depth = narrowing.depth ?? parent.depth - 1
  const inherited = narrowing.abilities ?? parent.abilities
  const fields: CertificateFields = {
    audience: narrowing.audience,
    subject: parent.subject,
    resource: narrowing.resource ?? parent.resource,
    // 'delegate' is meaningless at depth 0: drop it when inherited implicitly.
    abilities: narrowing.abilities === undefined && depth === 0 ? inherited.filter(a => a !== 'delegate') : inherited,
    notBefore: narrowing.notBefore ?? parent.notBefore,
    expiry: narrowing.expiry ?? parent.expiry,
    depth: Math.max(depth, 0),
    parent: parent.id,
    purpose: narrowing.purpose ?? parent.purpose
  }
  if (narrowing.nonce !== undefined) fields.nonce = narrowing.nonce
  if (fields.abilities.length === 0) throw new AttenuationError('nothing left to delegate')
  const payload = certificatePayload(fields, signer.publicKey)
  const problem = linkProblem({ ...payload, parentIds: [parent.id] }, parent)
  if (problem !== undefined) throw new AttenuationError(problem.detail)
  return issueCertificate(fields, signer)
}
