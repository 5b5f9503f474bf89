/**
 * The access-control module (paper §4.3): the one function every protocol
 * handler calls before doing any work. Given the user's invocation, the
 * certificate chain, the requested resource's descriptive metadata (from the
 * serving node's own registry), the ability the operation needs and the
 * noise-authenticated remote peer, it returns allow or deny with one reason
 * code, and hands every decision to the audit sink.
 */
import { createHash } from 'node:crypto'
import type { Logger } from '@libp2p/interface'
import { ABILITIES, grants } from './abilities.js'
import type { Ability } from './abilities.js'
import { VerifiedCache } from './cache.js'
import { verifyChain } from './chain.js'
import type { RevocationChecker } from './chain.js'
import { DEFAULT_CLOCK_SKEW_MS, MAX_CHAIN_LENGTH } from './constants.js'
import { keyId } from './ed25519.js'
import { peekRecordId } from './envelope.js'
import { AccessDeniedError, messageOf } from './errors.js'
import type { ReasonCode } from './errors.js'
import { checkInvocation, ReplayCache } from './invocation.js'
import { SAC_RECORD } from './record-types.js'
import { coverageProblem } from './coverage.js'
import { parseDescriptor } from './selector.js'
import type { ResourceDescriptor } from './selector.js'

export interface AccessRequest {
  /** Envelope bytes of the user's invocation. */
  invocation: Uint8Array
  /** Envelope bytes of the certificates, root first. */
  chain: readonly Uint8Array[]
  /** Memberships for group audiences in the chain. */
  memberships?: readonly Uint8Array[]
  /** The command being served and `hashArguments()` of its actual arguments. */
  command: string
  args: Uint8Array
  /** What the serving node's registry says about the resource. */
  resource: ResourceDescriptor
  /** The ability the operation needs. */
  ability: Ability
  /** Peer id of the noise-authenticated remote peer. */
  remotePeer: string
}

/** What every decision records (the audit log's entry). No patient data: keys and ids only. */
export interface DecisionBase {
  /** ms since the epoch. */
  at: number
  command: string
  ability: string
  remotePeer: string
  serverPeer: string
  resource: { contentId: string, lfn?: string }
  /** Ids of every link presented (verified or not), root first. */
  chainIds: string[]
  invocationId?: string
  /** Key id of the invoker. */
  requester?: string
  /** Key id of the chain's subject (the data owner). */
  subject?: string
  /** The leaf certificate's purpose of use. */
  purpose?: string
}

export interface AllowDecision extends DecisionBase {
  allow: true
  invocationId: string
  requester: string
  subject: string
  purpose: string
  /** When this permission lapses (earliest expiry in chain and invocation), ms. */
  expiresAt: number
}

export interface DenyDecision extends DecisionBase {
  allow: false
  reason: ReasonCode
  /** Why, for operators; never send it to another hospital. */
  detail: string
  /** Index of the offending chain link, when one is to blame. */
  link?: number
}

export type Decision = AllowDecision | DenyDecision

/** Receives every decision; the hash-chained audit log implements it. */
export interface AuditSink {
  record: (decision: Decision) => void | Promise<void>
}

export interface AccessControlInit {
  /** This node's peer id: invocations must be addressed to it. */
  serverPeer: string
  revocations?: RevocationChecker
  audit?: AuditSink
  /** ms since the epoch; injectable for tests. */
  clock?: () => number
  skewMs?: number
  cache?: VerifiedCache
  replay?: ReplayCache
  maxMembershipLifetimeS?: number
  logger?: Logger
}

const abilitySet: ReadonlySet<string> = new Set(ABILITIES)

/** Ids of the links as presented, for the audit trail of a denial. */
function presentedIds (chain: unknown): string[] {
  if (!Array.isArray(chain)) return []
  return chain.slice(0, MAX_CHAIN_LENGTH + 1).map((bytes: unknown) => {
    if (!(bytes instanceof Uint8Array)) return 'invalid'
    return peekRecordId(bytes, SAC_RECORD) ?? `bytes:${createHash('sha256').update(bytes).digest('hex')}`
  })
}

export class AccessControl {
  readonly serverPeer: string
  readonly cache: VerifiedCache
  readonly replay: ReplayCache
  private readonly init: AccessControlInit
  private readonly clock: () => number
  private readonly skewMs: number

  constructor (init: AccessControlInit) {
    this.init = init
    this.serverPeer = init.serverPeer
    this.cache = init.cache ?? new VerifiedCache()
    this.replay = init.replay ?? new ReplayCache()
    this.clock = init.clock ?? Date.now
    this.skewMs = init.skewMs ?? DEFAULT_CLOCK_SKEW_MS
  }

  /** Decides without auditing. Never throws. */
  evaluate (request: AccessRequest): Decision {
    const now = this.clock()
    const base: DecisionBase = {
      at: now,
      command: typeof request?.command === 'string' ? request.command.slice(0, 64) : '',
      ability: typeof request?.ability === 'string' ? request.ability.slice(0, 32) : '',
      remotePeer: typeof request?.remotePeer === 'string' ? request.remotePeer.slice(0, 128) : '',
      serverPeer: this.serverPeer,
      resource: { contentId: typeof request?.resource?.contentId === 'string' ? request.resource.contentId.slice(0, 128) : '' },
      chainIds: []
    }
    if (typeof request?.resource?.lfn === 'string') base.resource.lfn = request.resource.lfn.slice(0, 256)
    const deny = (reason: ReasonCode, detail: string, link?: number): DenyDecision => {
      const d: DenyDecision = { ...base, allow: false, reason, detail }
      if (link !== undefined) d.link = link
      if (d.chainIds.length === 0) d.chainIds = presentedIds(request?.chain)
      this.init.logger?.('deny %s (%s) remote %s', reason, detail, base.remotePeer)
      return d
    }
    try {
      if (!abilitySet.has(request.ability)) return deny('MALFORMED', 'unknown ability')
      try {
        parseDescriptor(request.resource)
      } catch (err) {
        return deny('MALFORMED', `invalid resource descriptor: ${messageOf(err)}`)
      }
      const inv = checkInvocation(request.invocation, {
        serverPeer: this.serverPeer,
        remotePeer: request.remotePeer,
        command: request.command,
        args: request.args,
        now,
        skewMs: this.skewMs,
        replay: this.replay
      })
      if (inv.invocation !== undefined) {
        base.invocationId = inv.invocation.id
        base.requester = keyId(inv.invocation.issuer)
      }
      if (!inv.ok) return deny(inv.reason, inv.detail)
      const invocation = inv.invocation
      const options = {
        now,
        skewMs: this.skewMs,
        cache: this.cache,
        holder: invocation.issuer,
        ...(this.init.revocations === undefined ? {} : { revocations: this.init.revocations }),
        ...(request.memberships === undefined ? {} : { memberships: request.memberships }),
        ...(this.init.maxMembershipLifetimeS === undefined ? {} : { maxMembershipLifetimeS: this.init.maxMembershipLifetimeS })
      }
      const result = verifyChain(request.chain, options)
      if (!result.ok) return deny(result.reason, result.detail, result.link)
      const chain = result.chain
      base.chainIds = [...chain.ids]
      base.subject = keyId(chain.subject)
      base.purpose = chain.leaf.purpose
      if (chain.leaf.id !== invocation.proofId) return deny('BROKEN_CHAIN', 'the invocation names another leaf certificate')
      const problem = coverageProblem(chain.subject, chain.certificates, request.resource)
      if (problem === 'subject') return deny('RESOURCE_MISMATCH', 'the chain\'s subject has no authority over this resource')
      if (problem !== undefined) return deny('RESOURCE_MISMATCH', 'resource outside the certificate', problem)
      if (!grants(chain.leaf.abilities, request.ability)) return deny('ABILITY_MISSING', `the chain does not grant ${request.ability}`)
      return {
        ...base,
        allow: true,
        invocationId: invocation.id,
        requester: keyId(invocation.issuer),
        subject: keyId(chain.subject),
        purpose: chain.leaf.purpose,
        expiresAt: Math.min(chain.expiresAt, invocation.expiry * 1000)
      }
    } catch (err) {
      return deny('INTERNAL_ERROR', messageOf(err))
    }
  }

  /** Decides and records the decision in the audit sink; an allow that cannot be audited becomes a deny. */
  async check (request: AccessRequest): Promise<Decision> {
    const decision = this.evaluate(request)
    const audit = this.init.audit
    if (audit === undefined) return decision
    try {
      await audit.record(decision)
    } catch (err) {
      this.init.logger?.error('audit sink failed: %s', messageOf(err))
      if (!decision.allow) return decision
      const { expiresAt: _e, ...rest } = decision
      return { ...rest, allow: false, reason: 'AUDIT_FAILED', detail: 'the decision could not be audited' }
    }
    return decision
  }
}

/** The access-control module for one node. */
export function accessControl (init: AccessControlInit): AccessControl {
  return new AccessControl(init)
}

/** For handlers that prefer exceptions: throws AccessDeniedError unless allowed. */
export function assertAllowed (decision: Decision): asserts decision is AllowDecision {
  if (!decision.allow) throw new AccessDeniedError(decision.reason, decision.detail)
}
