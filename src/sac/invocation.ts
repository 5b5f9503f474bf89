/**
 * Invocations: the user's signature on one request. A certificate chain says
 * what a key may do; the invocation proves that key asks for this command,
 * with these arguments, of this server, through this node, right now — and
 * only once. It binds the leaf certificate it relies on (`proof`), so it cannot
 * be paired with another chain.
 */
import { createHash, randomBytes } from 'node:crypto'
import { encodeCanonical } from './cbor.js'
import {
  DEFAULT_CLOCK_SKEW_MS, DEFAULT_INVOCATION_LIFETIME_S, DEFAULT_REPLAY_CACHE_SIZE, MAX_COMMAND_LENGTH,
  MAX_ENVELOPE_BYTES, MAX_INVOCATION_LIFETIME_S, MAX_PEER_ID_LENGTH, NONCE_BYTES
} from './constants.js'
import { timeProblem } from './chain.js'
import type { Signer } from './ed25519.js'
import { signRecord, verifyRecord } from './envelope.js'
import { InvalidCertificateError, MalformedRecordError, SignatureError, messageOf, reasonOf } from './errors.js'
import type { ReasonCode } from './errors.js'
import { INVOCATION_RECORD } from './record-types.js'
import { parseId, parseNonce, parseTime } from './sac.js'
import { parseKey } from './selector.js'
import { equalBytes, fail, hex, strictMap, text } from './validate.js'

/** libp2p peer ids as strings (base58btc `12D3Koo…` or CIDv1 base32). */
const PEER_ID = new RegExp(`^[A-Za-z0-9]{1,${MAX_PEER_ID_LENGTH}}$`)
/** Commands name a protocol operation: `image/get`, `query`, `chunks/get`. */
const COMMAND = new RegExp(`^[a-z][a-z0-9/._-]{0,${MAX_COMMAND_LENGTH - 1}}$`)

export interface InvocationPayload {
  issuer: Uint8Array
  /** The serving node's peer id. */
  audience: string
  /** The node the user acts through: the noise-authenticated remote peer. */
  origin: string
  command: string
  /** `hashArguments(args)`. */
  args: Uint8Array
  /** Id of the leaf certificate of the chain presented with it. */
  proof: Uint8Array
  nonce: Uint8Array
  /** Unix seconds. */
  issuedAt: number
  expiry: number
}

/** Validates a decoded invocation payload; unknown fields are rejected. */
export function parseInvocationPayload (value: unknown): InvocationPayload {
  const m = strictMap(value, 'invocation', ['issuer', 'audience', 'origin', 'command', 'args', 'proof', 'nonce', 'issuedAt', 'expiry'])
  const payload: InvocationPayload = {
    issuer: parseKey(m.issuer, 'issuer'),
    audience: text(m.audience, 'audience', PEER_ID, 'a peer id'),
    origin: text(m.origin, 'origin', PEER_ID, 'a peer id'),
    command: text(m.command, 'command', COMMAND, 'a command name'),
    args: parseId(m.args, 'args'),
    proof: parseId(m.proof, 'proof'),
    nonce: parseNonce(m.nonce, 'nonce'),
    issuedAt: parseTime(m.issuedAt, 'issuedAt'),
    expiry: parseTime(m.expiry, 'expiry')
  }
  if (payload.expiry <= payload.issuedAt) fail('expiry', 'must be after issuedAt')
  return payload
}

export interface Invocation extends InvocationPayload {
  readonly id: string
  /** Hex of `proof`. */
  readonly proofId: string
}

const sameBytes = equalBytes

const ARGS_CONTEXT = 'DM2 invocation arguments v1'

/** SHA-256 of the canonical CBOR of a request's arguments, domain-separated. */
export function hashArguments (args: unknown): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encodeCanonical([ARGS_CONTEXT, args], MAX_ENVELOPE_BYTES)).digest())
}

/** Verifies invocation bytes: envelope, schema, signature by the issuer. Throws like `verifyRecord`. */
export function openInvocation (bytes: Uint8Array): Invocation {
  const record = verifyRecord(bytes, INVOCATION_RECORD)
  const p = parseInvocationPayload(record.value)
  if (!sameBytes(record.signer, p.issuer)) throw new SignatureError('BAD_SIGNATURE', 'invocation signed by another key than its issuer')
  return { ...p, id: record.id, proofId: hex(p.proof) }
}

export interface InvocationFields {
  audience: string
  origin: string
  command: string
  /** `hashArguments(args)`. */
  args: Uint8Array
  /** Hex id of the leaf certificate. */
  proof: string
  /** ms; defaults to Date.now(). */
  now?: number
  lifetimeS?: number
  nonce?: Uint8Array
}

/** Signs an invocation; returns its envelope bytes and id. */
export function createInvocation (fields: InvocationFields, signer: Signer): { bytes: Uint8Array, id: string } {
  const issuedAt = Math.floor((fields.now ?? Date.now()) / 1000)
  const payload = {
    issuer: signer.publicKey,
    audience: fields.audience,
    origin: fields.origin,
    command: fields.command,
    args: fields.args,
    proof: Uint8Array.from(Buffer.from(fields.proof, 'hex')),
    nonce: fields.nonce ?? new Uint8Array(randomBytes(NONCE_BYTES)),
    issuedAt,
    expiry: issuedAt + (fields.lifetimeS ?? DEFAULT_INVOCATION_LIFETIME_S)
  }
  try {
    parseInvocationPayload(payload)
  } catch (err) {
    if (err instanceof MalformedRecordError) throw new InvalidCertificateError(err.message)
    throw err
  }
  return signRecord(INVOCATION_RECORD, payload, signer)
}

/**
 * Ids of invocations seen, each kept until its expiry plus the skew (after
 * which it is rejected as expired anyway). When full of live ids it refuses
 * new ones: forgetting one early would let it be replayed.
 */
export class ReplayCache {
  private readonly expiries = new Map<string, number>()
  private readonly buckets = new Map<number, string[]>()
  private readonly max: number

  constructor (init: { max?: number } = {}) {
    this.max = init.max ?? DEFAULT_REPLAY_CACHE_SIZE
  }

  get size (): number {
    return this.expiries.size
  }

  private sweep (now: number): void {
    for (const [second, ids] of this.buckets) {
      if (second * 1000 > now) continue
      for (const id of ids) {
        const until = this.expiries.get(id)
        if (until !== undefined && until <= now) this.expiries.delete(id)
      }
      this.buckets.delete(second)
    }
  }

  /** 'fresh' and remembered until `until` (ms), 'replay' if already seen, 'full' if no room. */
  remember (id: string, until: number, now: number): 'fresh' | 'replay' | 'full' {
    const seen = this.expiries.get(id)
    if (seen !== undefined && seen > now) return 'replay'
    if (this.expiries.size >= this.max) {
      this.sweep(now)
      if (this.expiries.size >= this.max) return 'full'
    }
    this.expiries.set(id, until)
    const second = Math.ceil(until / 1000)
    const bucket = this.buckets.get(second)
    if (bucket === undefined) this.buckets.set(second, [id])
    else bucket.push(id)
    if (this.buckets.size > 1024) this.sweep(now)
    return 'fresh'
  }
}

export interface InvocationContext {
  /** This server's peer id. */
  serverPeer: string
  /** The noise-authenticated remote peer id. */
  remotePeer: string
  /** The command and arguments hash of the request being served. */
  command: string
  args: Uint8Array
  now: number
  skewMs?: number
  replay?: ReplayCache
}

export type InvocationResult =
  | { ok: true, invocation: Invocation }
  | { ok: false, reason: ReasonCode, detail: string, invocation?: Invocation }

/** Checks an invocation against the request and this server; records its id against replay. */
export function checkInvocation (bytes: Uint8Array, ctx: InvocationContext): InvocationResult {
  let invocation: Invocation
  try {
    invocation = openInvocation(bytes)
  } catch (err) {
    return { ok: false, reason: reasonOf(err), detail: messageOf(err) }
  }
  const deny = (reason: ReasonCode, detail: string): InvocationResult => ({ ok: false, reason, detail, invocation })
  if (invocation.audience !== ctx.serverPeer) return deny('WRONG_AUDIENCE', 'invocation addressed to another server')
  if (invocation.origin !== ctx.remotePeer) return deny('WRONG_ORIGIN', 'invocation sent through another node than the remote peer')
  if (invocation.command !== ctx.command) return deny('INVOCATION_MISMATCH', 'invocation is for another command')
  if (!(ctx.args instanceof Uint8Array) || !sameBytes(invocation.args, ctx.args)) return deny('INVOCATION_MISMATCH', 'invocation is for other arguments')
  if (invocation.expiry - invocation.issuedAt > MAX_INVOCATION_LIFETIME_S) {
    return deny('LIFETIME_TOO_LONG', `invocations live at most ${MAX_INVOCATION_LIFETIME_S} s`)
  }
  const skewMs = ctx.skewMs ?? DEFAULT_CLOCK_SKEW_MS
  const time = timeProblem(invocation.issuedAt, invocation.expiry, ctx.now, skewMs)
  if (time !== undefined) return deny(time.reason, `invocation ${time.detail}`)
  if (ctx.replay !== undefined) {
    const seen = ctx.replay.remember(invocation.id, invocation.expiry * 1000 + skewMs, ctx.now)
    if (seen === 'replay') return deny('REPLAY', 'invocation already used')
    if (seen === 'full') return deny('OVERLOADED', 'replay cache full')
  }
  return { ok: true, invocation }
}
