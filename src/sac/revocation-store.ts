/**
 * Revocation (issue 5): signed revocation records, checked offline, kept in a
 * durable set that answers `isRevoked(id)` synchronously on every access check.
 *
 * A revocation travels as a *notice*: the signed record plus the proof a
 * receiver needs to check it without asking anyone —
 *
 *   record = REVOCATION_RECORD { target, revoker, at, reason }, signed by `revoker`
 *   notice = canonical CBOR { record, chain: [sac…], memberships: [membership…] }
 *
 * For a certificate, `chain` runs from the root to (at least) the target and
 * the revoker must have issued the target or one of its ancestors (`mayRevoke`);
 * `memberships` admit group audiences along it. For a group membership, the
 * chain is empty, the membership is in `memberships`, and only the group's
 * root may revoke it. Chain verification (chain.ts) refuses any link that is
 * revoked, so revoking a certificate also stops every descendant.
 *
 * The set is keyed by the revoked id, in a level sublevel written with synced
 * writes, and mirrored in memory at open. An entry is dropped once its target
 * has expired: the expiry stops it (and its descendants, whose validity can
 * only narrow) from then on anyway.
 */
import type { Logger } from '@libp2p/interface'
import { decodeCbor, encodeCbor } from '../codec/cbor.js'
import { decodeCanonical, encodeCanonical } from './cbor.js'
import { mayRevoke, verifyChain } from './chain.js'
import { DEFAULT_CLOCK_SKEW_MS, ID_BYTES, MAX_CHAIN_LENGTH, MAX_MEMBERSHIP_BYTES, MAX_REVOCATION_BYTES, MAX_SAC_BYTES } from './constants.js'
import type { Signer } from './ed25519.js'
import { decodeEnvelope, peekRecordId, signRecord, verifyRecord } from './envelope.js'
import { messageOf, reasonOf } from './errors.js'
import { openMembership } from './membership.js'
import { REVOCATION_RECORD, SAC_RECORD } from './record-types.js'
import { parseTime } from './sac.js'
import type { Certificate } from './sac.js'
import { parseKey } from './selector.js'
import { bytes, equalBytes, fail, hex, list, strictMap } from './validate.js'

/** Largest notice: the record, a full chain and its memberships, with room for CBOR framing. */
export const MAX_REVOCATION_NOTICE_BYTES = 32 * 1024
/** Reason codes, after RFC 5280 §5.3.1 (CRLReason). A code, never prose. */
export const REVOCATION_REASONS = ['unspecified', 'key-compromise', 'superseded', 'privilege-withdrawn', 'cessation-of-operation'] as const
export type RevocationReason = typeof REVOCATION_REASONS[number]
/** Why a notice was refused: an access-control reason code, or one of these. */
export type RevocationRefusal = string
/** Stored entries are small; anything larger in the sublevel is not ours. */
const MAX_STORED_BYTES = MAX_REVOCATION_NOTICE_BYTES + 1024
/**
 * Proofs are checked whatever the time: a not-yet-valid certificate may be
 * revoked, and the store itself decides what to do with an expired one.
 */
const ANY_TIME_SKEW_MS = Number.MAX_SAFE_INTEGER

/** A notice that is malformed, or whose revoker may not revoke its target. `reason` is a code, safe to send to peers. */
export class RevocationRefusedError extends Error {
  static override name = 'RevocationRefusedError'
  readonly reason: RevocationRefusal

  constructor (reason: RevocationRefusal, message: string) {
    super(`revocation refused (${reason}): ${message}`)
    this.name = 'RevocationRefusedError'
    this.reason = reason
  }
}

export interface RevocationPayload {
  /** Id of the revoked certificate or membership. */
  target: Uint8Array
  revoker: Uint8Array
  /** Unix seconds. */
  at: number
  reason: RevocationReason
}

/** A notice whose record and proof were verified. */
export interface VerifiedRevocation {
  /** Id of the revocation record. */
  id: string
  /** Hex id of the revoked certificate or membership. */
  target: string
  revoker: string
  at: number
  reason: RevocationReason
  /** When the target expires anyway, ms. */
  expiresAt: number
  /** The notice bytes, as verified. */
  notice: Uint8Array
}

interface Notice { record: Uint8Array, chain: Uint8Array[], memberships: Uint8Array[] }

const reasonSet: ReadonlySet<string> = new Set(REVOCATION_REASONS)

function parsePayload (value: unknown): RevocationPayload {
  const m = strictMap(value, 'revocation', ['target', 'revoker', 'at', 'reason'])
  if (typeof m.reason !== 'string' || !reasonSet.has(m.reason)) fail('reason', 'expected a revocation reason code')
  return { target: bytes(m.target, 'target', ID_BYTES), revoker: parseKey(m.revoker, 'revoker'), at: parseTime(m.at, 'at'), reason: m.reason as RevocationReason }
}

function byteString (max: number) {
  return (v: unknown, path: string): Uint8Array => {
    if (!(v instanceof Uint8Array) || v.length === 0 || v.length > max) fail(path, `expected 1…${max} bytes`)
    return v
  }
}

function decodeNotice (input: Uint8Array): Notice {
  const m = strictMap(decodeCanonical(input, MAX_REVOCATION_NOTICE_BYTES), 'notice', ['record', 'chain', 'memberships'])
  return {
    record: byteString(MAX_REVOCATION_BYTES)(m.record, 'record'),
    chain: list(m.chain, 'chain', 0, MAX_CHAIN_LENGTH, byteString(MAX_SAC_BYTES)),
    memberships: list(m.memberships, 'memberships', 0, MAX_CHAIN_LENGTH, byteString(MAX_MEMBERSHIP_BYTES))
  }
}

/** The id a notice claims to revoke, unverified; undefined if it does not even decode. */
function peekTarget (input: Uint8Array): string | undefined {
  try {
    const envelope = decodeEnvelope(decodeNotice(input).record, MAX_REVOCATION_BYTES)
    const { target } = decodeCanonical(envelope.payload, MAX_REVOCATION_BYTES) as { target?: unknown }
    return target instanceof Uint8Array && target.length === ID_BYTES ? hex(target) : undefined
  } catch {
    return undefined
  }
}

/**
 * Verifies a notice: its encoding, the record's signature by its revoker, and
 * the proof that the revoker may revoke the target. Throws RevocationRefusedError.
 */
export function openRevocation (input: Uint8Array, options: { now?: number, skewMs?: number } = {}): VerifiedRevocation {
  const now = options.now ?? Date.now()
  let notice: Notice
  let payload: RevocationPayload
  let recordId: string
  try {
    notice = decodeNotice(input)
    const record = verifyRecord(notice.record, REVOCATION_RECORD)
    payload = parsePayload(record.value)
    if (!equalBytes(record.signer, payload.revoker)) throw new RevocationRefusedError('BAD_SIGNATURE', 'record signed by another key than its revoker')
    recordId = record.id
  } catch (err) {
    if (err instanceof RevocationRefusedError) throw err
    throw new RevocationRefusedError(reasonOf(err), messageOf(err))
  }
  if (payload.at * 1000 > now + (options.skewMs ?? DEFAULT_CLOCK_SKEW_MS)) throw new RevocationRefusedError('NOT_YET_VALID', 'dated in the future')
  const target = hex(payload.target)
  let expiresAt: number
  if (notice.chain.length > 0) {
    const result = verifyChain(notice.chain, { now, skewMs: ANY_TIME_SKEW_MS, memberships: notice.memberships })
    if (!result.ok) throw new RevocationRefusedError(result.reason, `proof chain: ${result.detail}`)
    const at = result.chain.ids.indexOf(target)
    if (at < 0) throw new RevocationRefusedError('NOT_IN_PROOF', 'the target is not in the proof chain')
    if (!mayRevoke(result.chain, target, payload.revoker)) throw new RevocationRefusedError('NOT_ISSUER', 'the revoker issued neither the target nor any ancestor')
    expiresAt = (result.chain.certificates[at] as Certificate).expiry * 1000
  } else {
    let membership
    try {
      membership = notice.memberships.map(b => openMembership(b)).find(m => m.id === target)
    } catch (err) {
      throw new RevocationRefusedError(reasonOf(err), `proof membership: ${messageOf(err)}`)
    }
    if (membership === undefined) throw new RevocationRefusedError('NOT_IN_PROOF', 'no proof for the target')
    if (!equalBytes(membership.root, payload.revoker)) throw new RevocationRefusedError('NOT_ISSUER', 'only the group\'s root revokes a membership')
    expiresAt = membership.expiry * 1000
  }
  return { id: recordId, target, revoker: hex(payload.revoker), at: payload.at, reason: payload.reason, expiresAt, notice: Uint8Array.from(input) }
}

export interface RevocationFields {
  /** Hex id of the certificate or membership to revoke; defaults to the last link of `chain`. */
  target?: string
  /** Root first, up to the target (certificates or their bytes). */
  chain?: ReadonlyArray<Certificate | Uint8Array>
  memberships?: readonly Uint8Array[]
  reason?: RevocationReason
  /** Unix seconds; now by default. */
  at?: number
}

/** Signs a revocation and returns its notice, verified (so a revoker that may not revoke finds out here). */
export function createRevocation (fields: RevocationFields, revoker: Signer, now = Date.now()): VerifiedRevocation {
  const chain = (fields.chain ?? []).map(c => c instanceof Uint8Array ? c : c.bytes)
  const last = fields.chain?.[fields.chain.length - 1]
  const target = fields.target ?? (last === undefined ? undefined : last instanceof Uint8Array ? peekRecordId(last, SAC_RECORD) : last.id)
  if (target === undefined || !/^[0-9a-f]{64}$/.test(target)) throw new RevocationRefusedError('MALFORMED', 'name the target id (64 hex digits)')
  const payload = { target: Uint8Array.from(Buffer.from(target, 'hex')), revoker: revoker.publicKey, at: fields.at ?? Math.floor(now / 1000), reason: fields.reason ?? 'unspecified' }
  const record = signRecord(REVOCATION_RECORD, payload, revoker)
  const notice = encodeCanonical({ record: record.bytes, chain, memberships: [...(fields.memberships ?? [])] }, MAX_REVOCATION_NOTICE_BYTES)
  return openRevocation(notice, { now })
}

/** The sublevel the set lives in (string keys, byte values), e.g. `db.sublevel('revocations', { valueEncoding: 'view' })`. */
export interface RevocationDb {
  batch: (ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }>, options?: { sync?: boolean }) => Promise<void>
  iterator: (options?: Record<string, never>) => AsyncIterable<[string, Uint8Array]>
}

export interface RevocationStoreInit {
  db: RevocationDb
  /** ms since the epoch; injectable for tests. */
  clock?: () => number
  skewMs?: number
  logger?: Logger
}

/** One stored revocation; `notice` is what is pushed to peers. */
export type StoredRevocation = Omit<VerifiedRevocation, 'notice'> & { notice: Uint8Array }

function encodeStored (r: VerifiedRevocation): Uint8Array {
  return encodeCbor({ id: r.id, target: r.target, revoker: r.revoker, at: r.at, reason: r.reason, expiresAt: r.expiresAt, notice: r.notice })
}

function decodeStored (value: Uint8Array): StoredRevocation {
  return decodeCbor(value, MAX_STORED_BYTES) as StoredRevocation
}

/**
 * The node's durable revocation set. Implements the access-control module's
 * `RevocationChecker`: `isRevoked` answers from memory, without I/O.
 */
export class RevocationStore {
  private readonly init: RevocationStoreInit
  /** Revoked id → when its target expires (ms). */
  private readonly revoked = new Map<string, number>()
  private readonly pending = new Map<string, Promise<boolean>>()

  private constructor (init: RevocationStoreInit) {
    this.init = init
  }

  /** Opens the set and loads it into memory. */
  static async open (init: RevocationStoreInit): Promise<RevocationStore> {
    const store = new RevocationStore(init)
    for await (const [key, value] of init.db.iterator()) {
      // Our own synced writes: trusted, not re-verified (that would cost every signature again at each start).
      store.revoked.set(key, decodeStored(value).expiresAt)
    }
    return store
  }

  /** Synchronous, from memory: called on every link of every chain checked. */
  isRevoked (id: string): boolean {
    return this.revoked.has(id)
  }

  get size (): number {
    return this.revoked.size
  }

  /**
   * Verifies and stores a notice. Resolves true when the target was not
   * revoked before, false when it was (or has expired: nothing left to stop).
   * Throws RevocationRefusedError for a bad notice about a target not yet
   * revoked; either way a bad notice changes nothing.
   */
  async add (notice: Uint8Array): Promise<boolean> {
    // In a mesh every node hears of a revocation from several peers: a notice
    // about an id already revoked could change nothing, so it is not verified again.
    const claimed = peekTarget(notice)
    if (claimed !== undefined && this.revoked.has(claimed)) return false
    const now = this.init.clock?.() ?? Date.now()
    const skewMs = this.init.skewMs ?? DEFAULT_CLOCK_SKEW_MS
    const verified = openRevocation(notice, { now, skewMs })
    const { target } = verified
    if (this.revoked.has(target)) return false
    if (verified.expiresAt + skewMs <= now) return false
    const running = this.pending.get(target)
    if (running !== undefined) return await running.then(() => false)
    const write = (async () => {
      await this.init.db.batch([{ type: 'put', key: target, value: encodeStored(verified) }], { sync: true })
      this.revoked.set(target, verified.expiresAt)
      this.init.logger?.('revoked %s (by key %s, %s)', target, verified.revoker.slice(0, 16), verified.reason)
      return true
    })()
    this.pending.set(target, write)
    try {
      return await write
    } finally {
      this.pending.delete(target)
    }
  }

  /** Every stored revocation, with its notice. */
  async list (): Promise<StoredRevocation[]> {
    const out: StoredRevocation[] = []
    for await (const [, value] of this.init.db.iterator()) out.push(decodeStored(value))
    return out
  }

  /** Drops revocations whose target has expired; returns how many. */
  async prune (): Promise<number> {
    const limit = (this.init.clock?.() ?? Date.now()) - (this.init.skewMs ?? DEFAULT_CLOCK_SKEW_MS)
    const gone = [...this.revoked].filter(([, expiresAt]) => expiresAt <= limit).map(([id]) => id)
    if (gone.length === 0) return 0
    await this.init.db.batch(gone.map(key => ({ type: 'del' as const, key })), { sync: true })
    for (const id of gone) this.revoked.delete(id)
    return gone.length
  }
}
