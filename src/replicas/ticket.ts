/**
 * The replication ticket: the site-level authorization a storage site shows
 * when it pulls chunks for a replica. The master signs, with its node key,
 * "`holder` may read the chunks of content id `cid` of mine until `exp`"; the
 * ticket travels inside the replicate request and the storage site puts it,
 * unchanged, in the `auth` field of its `/dm2/chunks/1.0.0` requests — to the
 * master and to existing replicas alike. A chunk server accepts it when the
 * signer is the master of that content id (itself, or the master its replica
 * store recorded), the requester (authenticated by noise) is the named holder
 * and a roster storage site, and the ticket is unexpired.
 *
 * Wire: 'DM2RT1' ‖ canonical CBOR { body, sig }, body = canonical CBOR
 * { cid, exp, holder, master }, sig = Ed25519(context ‖ 0x00 ‖ body)
 * (RFC 8032); the magic prefix can never start a SAC authorization (CBOR map).
 */
import type { PrivateKey } from '@libp2p/interface'
import { ed25519Verify, publicKeyFromPeerId } from '../privacy/payload/index.js'
import { decodeCanonical, encodeCanonical, isMap } from '../sac/cbor.js'
import { MAX_TICKET_BYTES, TICKET_CONTEXT, TICKET_MAGIC, TICKET_VALIDITY_MS } from './constants.js'
import { TicketError } from './errors.js'

export interface Ticket {
  contentId: Uint8Array
  holder: string
  master: string
  expiresAt: number
}

const CONTEXT = new Uint8Array([...new TextEncoder().encode(TICKET_CONTEXT), 0])

function signingInput (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONTEXT.length + body.length)
  out.set(CONTEXT)
  out.set(body, CONTEXT.length)
  return out
}

/** Whether `auth` is a ticket (rather than a SAC authorization). */
export function isTicket (auth: Uint8Array): boolean {
  return auth.byteLength > TICKET_MAGIC.length && TICKET_MAGIC.every((b, i) => auth[i] === b)
}

/** Signs a ticket for `holder` with the master's node key. */
export async function signTicket (key: PrivateKey, fields: { contentId: Uint8Array, holder: string, master: string, now?: number, validityMs?: number }): Promise<Uint8Array> {
  const exp = (fields.now ?? Date.now()) + (fields.validityMs ?? TICKET_VALIDITY_MS)
  const body = encodeCanonical({ cid: fields.contentId, exp, holder: fields.holder, master: fields.master }, MAX_TICKET_BYTES)
  const sig = await key.sign(signingInput(body))
  const wire = encodeCanonical({ body, sig: new Uint8Array(sig) }, MAX_TICKET_BYTES)
  const out = new Uint8Array(TICKET_MAGIC.length + wire.length)
  out.set(TICKET_MAGIC)
  out.set(wire, TICKET_MAGIC.length)
  return out
}

/** Decodes and checks the signature (by the master named inside) and expiry; throws TicketError. */
export async function openTicket (auth: Uint8Array, now = Date.now()): Promise<Ticket> {
  if (!isTicket(auth) || auth.byteLength > MAX_TICKET_BYTES + TICKET_MAGIC.length) throw new TicketError('not a ticket')
  let outer, inner
  try {
    outer = decodeCanonical(auth.subarray(TICKET_MAGIC.length), MAX_TICKET_BYTES)
    if (!isMap(outer) || !(outer.body instanceof Uint8Array) || !(outer.sig instanceof Uint8Array)) throw new Error('shape')
    inner = decodeCanonical(outer.body, MAX_TICKET_BYTES)
  } catch {
    throw new TicketError('malformed')
  }
  if (!isMap(inner) || !(inner.cid instanceof Uint8Array) || typeof inner.holder !== 'string' ||
      typeof inner.master !== 'string' || typeof inner.exp !== 'number' || !Number.isSafeInteger(inner.exp)) {
    throw new TicketError('malformed')
  }
  let publicKey
  try {
    publicKey = publicKeyFromPeerId(inner.master)
  } catch {
    throw new TicketError('master is not an Ed25519 peer id')
  }
  if (!ed25519Verify(signingInput(outer.body), outer.sig, publicKey)) throw new TicketError('bad signature')
  if (inner.exp < now) throw new TicketError('expired')
  return { contentId: inner.cid, holder: inner.holder, master: inner.master, expiresAt: inner.exp }
}

export interface TicketCheck {
  /** Peer id of the master of `contentId` as this node knows it (itself, or from its replica store); undefined if unknown. */
  masterOf: (contentId: Uint8Array) => Promise<string | undefined>
  isStorage: (peer: string) => boolean
  now?: () => number
}

export type TicketDecision = { allow: true } | { allow: false, reason: string }

/**
 * The chunk authorizer step for tickets: undefined when `auth` is not a
 * ticket (go on with the SAC check), else the decision.
 */
export function ticketAuthorizer (check: TicketCheck): (req: { auth: Uint8Array, contentId: Uint8Array, remotePeer: { toString: () => string } }) => Promise<TicketDecision | undefined> {
  return async (req) => {
    if (!isTicket(req.auth)) return undefined
    let ticket
    try {
      ticket = await openTicket(req.auth, check.now?.() ?? Date.now())
    } catch {
      return { allow: false, reason: 'BAD_TICKET' }
    }
    const peer = req.remotePeer.toString()
    if (ticket.holder !== peer) return { allow: false, reason: 'NOT_HOLDER' }
    if (Buffer.compare(ticket.contentId, req.contentId) !== 0) return { allow: false, reason: 'RESOURCE_MISMATCH' }
    if (!check.isStorage(peer)) return { allow: false, reason: 'NOT_STORAGE' }
    if (await check.masterOf(req.contentId) !== ticket.master) return { allow: false, reason: 'NOT_MASTER' }
    return { allow: true }
  }
}
