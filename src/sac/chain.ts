/**
 * Offline verification of a delegation chain, root first:
 *
 * - at most 5 links; each link verified (envelope, canonical CBOR, schema, strict signature);
 * - the root has no parent and its issuer is the subject (the data owner's own grant);
 * - each later link names the previous one as parent, keeps the subject, and is
 *   issued by the previous link's audience (a key, or a member of the group);
 * - abilities, resource and validity only narrow; depth strictly decreases;
 *   a link may only have a child if it holds `delegate` (attenuate.ts);
 * - every link and every membership used is currently valid and not revoked,
 *   so revoking a certificate also stops all its descendants.
 *
 * Never throws: the result is a verified chain or a reason code.
 */
import { linkProblem } from './attenuate.js'
import type { VerifiedCache } from './cache.js'
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MEMBERSHIP_LIFETIME_S, MAX_CHAIN_LENGTH } from './constants.js'
import { messageOf, reasonOf } from './errors.js'
import type { ReasonCode } from './errors.js'
import { openMembership } from './membership.js'
import type { Membership } from './membership.js'
import { openCertificate } from './sac.js'
import type { Audience, Certificate } from './sac.js'
import { equalBytes } from './validate.js'

/** Injected by the revocation store (later); must answer from memory, synchronously. */
export interface RevocationChecker {
  isRevoked: (id: string) => boolean
}

export interface ChainOptions {
  /** Current time, ms since the epoch. */
  now: number
  skewMs?: number
  revocations?: RevocationChecker
  /** Verified-record cache; without one every link is verified afresh. */
  cache?: VerifiedCache
  /** Membership certificates for group audiences along the chain. */
  memberships?: readonly Uint8Array[]
  /** The key that will use the chain (the invoker): the leaf's audience must accept it. */
  holder?: Uint8Array
  maxMembershipLifetimeS?: number
}

export interface VerifiedChain {
  readonly certificates: readonly Certificate[]
  readonly ids: readonly string[]
  readonly subject: Uint8Array
  readonly leaf: Certificate
  /** Ids of the memberships that admitted group audiences. */
  readonly membershipIds: readonly string[]
  /** Earliest expiry of any link or membership used, ms. */
  readonly expiresAt: number
}

export interface ChainFailure {
  ok: false
  reason: ReasonCode
  detail: string
  /** Index of the offending link, when one is to blame. */
  link?: number
  /** Ids of the links verified before the failure. */
  ids: string[]
}

export type ChainResult = { ok: true, chain: VerifiedChain } | ChainFailure

/** Verifies certificate bytes, through the cache when there is one. */
export function openCertificateCached (bytes: Uint8Array, cache?: VerifiedCache): Certificate {
  return cache === undefined ? openCertificate(bytes) : cache.getOrVerify('sac', bytes, openCertificate)
}

const sameKey = equalBytes

interface Problem { reason: ReasonCode, detail: string }

/** Time validity with skew tolerance on both ends. */
export function timeProblem (notBeforeS: number, expiryS: number, now: number, skewMs: number): Problem | undefined {
  if (now + skewMs < notBeforeS * 1000) return { reason: 'NOT_YET_VALID', detail: 'not valid yet' }
  if (now - skewMs >= expiryS * 1000) return { reason: 'EXPIRED', detail: 'expired' }
  return undefined
}

class ChainVerifier {
  private readonly skewMs: number
  private readonly maxMembershipLifetimeS: number
  private memberships: Membership[] | undefined
  readonly membershipIds: string[] = []
  expiresAt = Infinity

  constructor (private readonly options: ChainOptions) {
    this.skewMs = options.skewMs ?? DEFAULT_CLOCK_SKEW_MS
    this.maxMembershipLifetimeS = options.maxMembershipLifetimeS ?? DEFAULT_MAX_MEMBERSHIP_LIFETIME_S
  }

  revoked (id: string): boolean {
    return this.options.revocations?.isRevoked(id) === true
  }

  validity (notBefore: number, expiry: number): Problem | undefined {
    this.expiresAt = Math.min(this.expiresAt, expiry * 1000)
    return timeProblem(notBefore, expiry, this.options.now, this.skewMs)
  }

  /** Memberships are opened only when a group audience needs them. */
  private openMemberships (): Membership[] | Problem {
    if (this.memberships !== undefined) return this.memberships
    const list = this.options.memberships ?? []
    if (list.length > MAX_CHAIN_LENGTH) return { reason: 'MALFORMED', detail: `more than ${MAX_CHAIN_LENGTH} memberships` }
    const opened: Membership[] = []
    for (const [i, bytes] of list.entries()) {
      try {
        opened.push(this.options.cache?.getOrVerify('membership', bytes, openMembership) ?? openMembership(bytes))
      } catch (err) {
        return { reason: 'GROUP_INVALID', detail: `membership ${i}: ${reasonOf(err)}` }
      }
    }
    this.memberships = opened
    return opened
  }

  /** Whether `key` is the audience, or a currently valid member of the audience group. */
  admits (audience: Audience, key: Uint8Array, notAudience: Problem): Problem | undefined {
    if ('key' in audience) return sameKey(audience.key, key) ? undefined : notAudience
    const { root, name } = audience.group
    const memberships = this.openMemberships()
    if (!Array.isArray(memberships)) return memberships
    const candidates = memberships.filter(m => sameKey(m.member, key) && m.group === name && sameKey(m.root, root))
    if (candidates.length === 0) return { reason: 'GROUP_INVALID', detail: `no membership of group ${name} from its root` }
    let last: Problem = { reason: 'GROUP_INVALID', detail: 'no valid membership' }
    for (const m of candidates) {
      if (m.expiry - m.notBefore > this.maxMembershipLifetimeS) {
        last = { reason: 'GROUP_INVALID', detail: `membership lives longer than ${this.maxMembershipLifetimeS} s` }
        continue
      }
      const time = timeProblem(m.notBefore, m.expiry, this.options.now, this.skewMs)
      if (time !== undefined) {
        last = { reason: 'GROUP_INVALID', detail: `membership ${time.detail}` }
        continue
      }
      if (this.revoked(m.id)) {
        last = { reason: 'REVOKED', detail: 'membership revoked' }
        continue
      }
      if (!this.membershipIds.includes(m.id)) this.membershipIds.push(m.id)
      this.expiresAt = Math.min(this.expiresAt, m.expiry * 1000)
      return undefined
    }
    return last
  }
}

/** Verifies a delegation chain (root first) offline. */
export function verifyChain (links: readonly Uint8Array[], options: ChainOptions): ChainResult {
  const ids: string[] = []
  const fail = (problem: Problem, link?: number): ChainFailure =>
    link === undefined ? { ok: false, ...problem, ids } : { ok: false, ...problem, link, ids }
  if (!Array.isArray(links) || links.length === 0) return fail({ reason: 'MALFORMED', detail: 'empty chain' })
  if (links.length > MAX_CHAIN_LENGTH) return fail({ reason: 'CHAIN_TOO_LONG', detail: `${links.length} links, at most ${MAX_CHAIN_LENGTH}` })
  const verifier = new ChainVerifier(options)
  const certificates: Certificate[] = []
  try {
    for (const [i, bytes] of links.entries()) {
      let cert: Certificate
      try {
        cert = openCertificateCached(bytes, options.cache)
      } catch (err) {
        return fail({ reason: reasonOf(err), detail: messageOf(err) }, i)
      }
      ids.push(cert.id)
      if (verifier.revoked(cert.id)) return fail({ reason: 'REVOKED', detail: 'certificate revoked' }, i)
      const time = verifier.validity(cert.notBefore, cert.expiry)
      if (time !== undefined) return fail(time, i)
      const parent = certificates[i - 1]
      if (parent === undefined) {
        if (cert.parentIds.length !== 0) return fail({ reason: 'BROKEN_CHAIN', detail: 'the first link names a parent' }, i)
        if (!sameKey(cert.issuer, cert.subject)) return fail({ reason: 'BROKEN_CHAIN', detail: 'the root is not issued by the subject' }, i)
      } else {
        const problem = linkProblem(cert, parent) ??
          verifier.admits(parent.audience, cert.issuer, { reason: 'BROKEN_CHAIN', detail: 'issuer is not the previous link\'s audience' })
        if (problem !== undefined) return fail(problem, i)
      }
      certificates.push(cert)
    }
    const leaf = certificates[certificates.length - 1] as Certificate
    if (options.holder !== undefined) {
      const problem = verifier.admits(leaf.audience, options.holder, { reason: 'WRONG_AUDIENCE', detail: 'the invoker is not the certificate\'s audience' })
      if (problem !== undefined) return fail(problem, certificates.length - 1)
    }
    return {
      ok: true,
      chain: { certificates, ids, subject: leaf.subject, leaf, membershipIds: verifier.membershipIds, expiresAt: verifier.expiresAt }
    }
  } catch (err) {
    // A failing dependency (revocation store) denies; it never allows.
    return fail({ reason: 'INTERNAL_ERROR', detail: messageOf(err) })
  }
}

/**
 * Whether `revoker` may revoke certificate `targetId` of a verified chain: it
 * issued that certificate or one of its ancestors (issue 5: "revocation
 * records by any issuer in a chain"). For the revocation store to check
 * signed revocation records against the chain they concern.
 */
export function mayRevoke (chain: VerifiedChain, targetId: string, revoker: Uint8Array): boolean {
  const at = chain.ids.indexOf(targetId)
  if (at < 0) return false
  for (let i = 0; i <= at; i++) {
    if (sameKey((chain.certificates[i] as Certificate).issuer, revoker)) return true
  }
  return false
}
