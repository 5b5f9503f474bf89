/**
 * Audit entries and their hash chain. Each entry's hash covers its content and
 * the previous entry's hash (domain-separated, canonical CBOR), so altering or
 * removing any entry breaks every hash after it.
 */
import { createHash } from 'node:crypto'
import { decodeCbor, encodeCbor } from '../codec/cbor.js'
import { AuditEntryError } from './errors.js'

export const AUDIT_DOMAIN = 'dm2/audit-entry/v1'
export const AUDIT_HEAD_DOMAIN = 'dm2/audit-head/v1'
const MAX_ENTRY_BYTES = 64 * 1024

/** One access decision, as the access-control module reports it. */
export interface AuditDecision {
  decision: 'allow' | 'deny'
  /** Reason code (e.g. `EXPIRED`), never free text from a peer. */
  reason: string
  /** Protocol command, e.g. `chunks/get`, `query`, `similarity`. */
  command: string
  /** The LFN or content id concerned, if any; never a patient field. */
  resource?: string
  /** Key id of the requester (hash of the user's public key). */
  requester?: string
  /** Ids of every certificate in the presented chain, root first. */
  chain: string[]
  /** Noise-authenticated peer that carried the request. */
  remotePeer?: string
  /** Purpose of use stated in the certificate (audited, grants nothing). */
  purpose?: string
}

export interface AuditEntry extends AuditDecision {
  seq: number
  /** Milliseconds since the epoch. */
  time: number
  /** Hex SHA-256 of the previous entry ('' for the first). */
  prev: string
}

export interface StoredEntry {
  entry: AuditEntry
  hash: string
}

const SHORT = 256

function checkText (name: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return
  if (typeof value !== 'string' || value.length > SHORT) throw new AuditEntryError(`${name} must be a string of at most ${SHORT} characters`)
}

export function checkDecision (d: AuditDecision): void {
  if (d.decision !== 'allow' && d.decision !== 'deny') throw new AuditEntryError('decision must be allow or deny')
  checkText('reason', d.reason, false)
  checkText('command', d.command, false)
  for (const k of ['resource', 'requester', 'remotePeer', 'purpose'] as const) checkText(k, d[k], true)
  if (!Array.isArray(d.chain) || d.chain.length > 16) throw new AuditEntryError('chain must list at most 16 certificate ids')
  for (const id of d.chain) checkText('chain id', id, false)
}

/** The canonical form: optional fields absent rather than undefined. */
function canonical (entry: AuditEntry): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined))
}

export function hashEntry (entry: AuditEntry): string {
  return createHash('sha256').update(AUDIT_DOMAIN + '\0').update(encodeCbor(canonical(entry))).digest('hex')
}

export function encodeStored (stored: StoredEntry): Uint8Array {
  return encodeCbor({ entry: canonical(stored.entry), hash: stored.hash })
}

export function decodeStored (bytes: Uint8Array): StoredEntry {
  return decodeCbor(bytes, MAX_ENTRY_BYTES) as StoredEntry
}

/** The message the node signs for the chain head: sequence number and hash. */
export function headMessage (seq: number, hash: string): Uint8Array {
  return new TextEncoder().encode(`${AUDIT_HEAD_DOMAIN}\0${seq}\0${hash}`)
}
