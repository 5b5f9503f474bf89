/**
 * The federation roster (issue 5; DESIGN "Trust model"): the signed list of
 * member sites — peer id, name, roles (`trusted` may hold patient metadata and
 * keys, `storage` may hold encrypted replicas), validity — that the connection
 * gater admits. It is issued by the federation's authority keys, m of n: the
 * payload names the authority set and its threshold, and each authority signs
 * the same canonical payload as its own ROSTER_RECORD envelope (one record id,
 * several signatures; envelope.ts).
 *
 * Trust: the first roster is the one the operator configures (optionally
 * pinned to a known authority set). A later roster replaces it only with a
 * higher version, for the same federation, signed by a threshold of the
 * *current* authorities (and of its own set): an older or equal version never
 * replaces a newer one, and a stolen minority of keys cannot rewrite it.
 *
 * File format (what a config points at): JSON
 * `{ "format": "dm2-roster", "version": 1, "payload": base64, "signatures": [base64 envelope…] }`;
 * the payload is kept beside the envelopes so a roster can be built before anyone signs it.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeCanonical, encodeCanonical } from './cbor.js'
import { KEY_BYTES, MAX_ROSTER_BYTES } from './constants.js'
import { checkPublicKey, keyId } from './ed25519.js'
import type { Signer } from './ed25519.js'
import { decodeEnvelope, signRecord, verifyRecord } from './envelope.js'
import { messageOf, reasonOf } from './errors.js'
import { ROSTER_RECORD } from './record-types.js'
import { parseTime } from './sac.js'
import { compareBytes, compareStrings, equalBytes, fail, int, list, sortedUnique, strictMap, text } from './validate.js'

export const ROSTER_ROLES = ['storage', 'trusted'] as const
export type RosterRole = typeof ROSTER_ROLES[number]
export const ROSTER_FILE_FORMAT = 'dm2-roster'
export const MAX_ROSTER_SITES = 512
export const MAX_AUTHORITIES = 16
/** Signatures a roster file may carry (an authority set of at most 16, old and new during a rotation). */
const MAX_SIGNATURES = 2 * MAX_AUTHORITIES
const FEDERATION_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/
const SITE_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._'()&-]{0,63}$/u

/** A roster that does not verify, or may not replace the current one. `reason` is a code. */
export class RosterError extends Error {
  static override name = 'RosterError'
  readonly reason: string

  constructor (reason: string, message: string) {
    super(`roster refused (${reason}): ${message}`)
    this.name = 'RosterError'
    this.reason = reason
  }
}

export interface RosterSite {
  peerId: string
  name: string
  /** Sorted, unique; may be empty (a member that holds nothing). */
  roles: RosterRole[]
  /** Unix seconds. */
  notBefore: number
  expiry: number
}

export interface AuthoritySet {
  /** Raw Ed25519 keys, sorted, unique. */
  keys: Uint8Array[]
  threshold: number
}

export interface RosterPayload {
  federation: string
  /** Strictly increasing from one roster to the next. */
  version: number
  /** Unix seconds. */
  issuedAt: number
  authorities: AuthoritySet
  /** Sorted by peer id, unique. */
  sites: RosterSite[]
}

/** A roster whose signatures passed. */
export interface VerifiedRoster extends RosterPayload {
  /** The record id shared by every signature. */
  readonly id: string
  /** Key ids (hex) of the authorities that signed. */
  readonly signers: readonly string[]
  readonly payloadBytes: Uint8Array
  readonly envelopes: readonly Uint8Array[]
}

const roleSet: ReadonlySet<string> = new Set(ROSTER_ROLES)

function parsePeerId (value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length > 128) fail(path, 'expected a peer id')
  try {
    if (peerIdFromString(value).toString() === value) return value
  } catch {}
  return fail(path, 'expected a peer id')
}

function parseSite (value: unknown, path: string): RosterSite {
  const m = strictMap(value, path, ['peerId', 'name', 'roles', 'notBefore', 'expiry'])
  const roles = list(m.roles, `${path}.roles`, 0, ROSTER_ROLES.length, (v, p) => roleSet.has(v as string) ? v as RosterRole : fail(p, 'expected a role'))
  const site: RosterSite = {
    peerId: parsePeerId(m.peerId, `${path}.peerId`),
    name: text(m.name, `${path}.name`, SITE_NAME, 'a site name'),
    roles: sortedUnique(roles, `${path}.roles`, compareStrings) as RosterRole[],
    notBefore: parseTime(m.notBefore, `${path}.notBefore`),
    expiry: parseTime(m.expiry, `${path}.expiry`)
  }
  if (site.expiry <= site.notBefore) fail(`${path}.expiry`, 'must be after notBefore')
  return site
}

function parseAuthorityKey (value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== KEY_BYTES || checkPublicKey(value) !== 'ok') fail(path, 'expected a sound Ed25519 key')
  return value
}

/** Validates a decoded roster payload; unknown fields are rejected. Throws MalformedRecordError. */
export function parseRosterPayload (value: unknown): RosterPayload {
  const m = strictMap(value, 'roster', ['federation', 'version', 'issuedAt', 'authorities', 'sites'])
  const a = strictMap(m.authorities, 'authorities', ['keys', 'threshold'])
  const keys = sortedUnique(list(a.keys, 'authorities.keys', 1, MAX_AUTHORITIES, parseAuthorityKey), 'authorities.keys', compareBytes) as Uint8Array[]
  const sites = list(m.sites, 'sites', 0, MAX_ROSTER_SITES, parseSite)
  return {
    federation: text(m.federation, 'federation', FEDERATION_NAME, 'a federation name'),
    version: int(m.version, 'version', 1, Number.MAX_SAFE_INTEGER),
    issuedAt: parseTime(m.issuedAt, 'issuedAt'),
    authorities: { keys, threshold: int(a.threshold, 'authorities.threshold', 1, keys.length) },
    sites: sortedUnique(sites, 'sites', (x, y) => compareStrings(x.peerId, y.peerId)) as RosterSite[]
  }
}

/** Puts sets in their one canonical order and checks the result. Throws RosterError. */
export function normalizeRoster (payload: RosterPayload): RosterPayload {
  const value = {
    federation: payload.federation,
    version: payload.version,
    issuedAt: payload.issuedAt,
    authorities: { keys: [...payload.authorities.keys].sort(compareBytes), threshold: payload.authorities.threshold },
    sites: [...payload.sites].sort((x, y) => compareStrings(x.peerId, y.peerId))
      .map(s => ({ peerId: s.peerId, name: s.name, roles: [...new Set(s.roles)].sort(), notBefore: s.notBefore, expiry: s.expiry }))
  }
  try {
    return parseRosterPayload(value)
  } catch (err) {
    throw new RosterError('MALFORMED', messageOf(err))
  }
}

/** A new roster with no sites yet. */
export function createRoster (fields: { federation: string, authorities: Uint8Array[], threshold: number, issuedAt?: number }): RosterPayload {
  return normalizeRoster({
    federation: fields.federation,
    version: 1,
    issuedAt: fields.issuedAt ?? Math.floor(Date.now() / 1000),
    authorities: { keys: fields.authorities, threshold: fields.threshold },
    sites: []
  })
}

/** The roster with `site` added, or replacing the site with the same peer id. */
export function withSite (payload: RosterPayload, site: RosterSite): RosterPayload {
  return normalizeRoster({ ...payload, sites: [...payload.sites.filter(s => s.peerId !== site.peerId), site] })
}

export function encodeRosterPayload (payload: RosterPayload): Uint8Array {
  return encodeCanonical(normalizeRoster(payload), MAX_ROSTER_BYTES)
}

export function decodeRosterPayload (bytes: Uint8Array): RosterPayload {
  try {
    return parseRosterPayload(decodeCanonical(bytes, MAX_ROSTER_BYTES))
  } catch (err) {
    throw new RosterError(reasonOf(err), messageOf(err))
  }
}

/**
 * One authority's signature over the roster: a ROSTER_RECORD envelope. The key
 * must be one of the roster's authorities, or of `current` (the set in force,
 * consenting to a roster that rotates it out).
 */
export function signRoster (payload: RosterPayload, authority: Signer, current?: AuthoritySet): Uint8Array {
  const p = normalizeRoster(payload)
  const sets = [p.authorities, ...(current === undefined ? [] : [current])]
  if (!sets.some(set => set.keys.some(k => equalBytes(k, authority.publicKey)))) throw new RosterError('UNKNOWN_SIGNER', 'the key is not one of the roster\'s authorities')
  return signRecord(ROSTER_RECORD, p, authority).bytes
}

/** How many of `signers` (hex key ids) belong to `set`, and whether that meets its threshold. */
export function signedBy (signers: readonly string[], set: AuthoritySet): boolean {
  const members = new Set(set.keys.map(keyId))
  return signers.filter(s => members.has(s)).length >= set.threshold
}

/**
 * Verifies a roster's signatures: every envelope a valid ROSTER_RECORD over
 * the same payload (and over `payload` when given), by distinct keys, among
 * them a threshold of the roster's own authorities, and of `trust` when given.
 * Throws RosterError.
 */
export function openRoster (envelopes: readonly Uint8Array[], options: { payload?: Uint8Array, trust?: AuthoritySet } = {}): VerifiedRoster {
  if (envelopes.length === 0) throw new RosterError('THRESHOLD', 'the roster is not signed')
  if (envelopes.length > MAX_SIGNATURES) throw new RosterError('MALFORMED', `more than ${MAX_SIGNATURES} signatures`)
  let payload: RosterPayload | undefined
  let payloadBytes = options.payload
  let id = ''
  const signers: string[] = []
  for (const [i, bytes] of envelopes.entries()) {
    let record
    try {
      record = verifyRecord(bytes, ROSTER_RECORD)
    } catch (err) {
      throw new RosterError(reasonOf(err), `signature ${i}: ${messageOf(err)}`)
    }
    const own = decodeEnvelope(bytes, ROSTER_RECORD.maxBytes)
    if (payloadBytes !== undefined && !equalBytes(own.payload, payloadBytes)) throw new RosterError('PAYLOAD_MISMATCH', `signature ${i} covers another roster`)
    payloadBytes = own.payload
    payload ??= decodeRosterPayload(own.payload)
    id = record.id
    const signer = keyId(record.signer)
    if (signers.includes(signer)) throw new RosterError('MALFORMED', `key ${signer.slice(0, 16)}… signed twice`)
    // Signatures by keys outside the roster's set count only towards another set
    // (the current authorities consenting to a rotation), never towards its own threshold.
    signers.push(signer)
  }
  const p = payload as RosterPayload
  if (!signedBy(signers, p.authorities)) throw new RosterError('THRESHOLD', `${signers.length} signature(s), the roster's authorities need ${p.authorities.threshold}`)
  if (options.trust !== undefined && !signedBy(signers, options.trust)) throw new RosterError('THRESHOLD', 'not signed by a threshold of the trusted authorities')
  return Object.freeze({ ...p, id, signers, payloadBytes: payloadBytes as Uint8Array, envelopes: [...envelopes] })
}

/** A roster file's contents, not verified (for editing and signing). */
export interface RosterFile {
  payload: RosterPayload
  payloadBytes: Uint8Array
  signatures: Uint8Array[]
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function fromBase64 (value: unknown, what: string, max: number): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value) || value.length > Math.ceil(max / 3) * 4) throw new RosterError('MALFORMED', `${what} must be base64`)
  return Uint8Array.from(Buffer.from(value, 'base64'))
}

/** Parses the JSON of a roster file (size-capped). Throws RosterError. */
export function parseRosterFile (json: string): RosterFile {
  if (json.length > 4 * MAX_ROSTER_BYTES * (MAX_SIGNATURES + 1)) throw new RosterError('MALFORMED', 'roster file too large')
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw new RosterError('MALFORMED', 'roster file is not JSON')
  }
  const o = value as Record<string, unknown>
  if (value === null || typeof value !== 'object' || o.format !== ROSTER_FILE_FORMAT || o.version !== 1) throw new RosterError('MALFORMED', `not a ${ROSTER_FILE_FORMAT} v1 file`)
  if (!Array.isArray(o.signatures) || o.signatures.length > MAX_SIGNATURES) throw new RosterError('MALFORMED', 'signatures must be a list')
  const payloadBytes = fromBase64(o.payload, 'payload', MAX_ROSTER_BYTES)
  return {
    payload: decodeRosterPayload(payloadBytes),
    payloadBytes,
    signatures: o.signatures.map((s: unknown) => fromBase64(s, 'signature', MAX_ROSTER_BYTES))
  }
}

/** The JSON text of a roster file. */
export function formatRosterFile (payload: RosterPayload, signatures: readonly Uint8Array[] = []): string {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')
  return JSON.stringify({ format: ROSTER_FILE_FORMAT, version: 1, payload: b64(encodeRosterPayload(payload)), signatures: signatures.map(b64) }, null, 2) + '\n'
}

/** Verifies a roster file's text. */
export function openRosterFile (json: string, trust?: AuthoritySet): VerifiedRoster {
  const file = parseRosterFile(json)
  return openRoster(file.signatures, { payload: file.payloadBytes, ...(trust === undefined ? {} : { trust }) })
}

/** The member directory a connection gater takes, plus role queries. Validity is judged at each call. */
export interface RosterDirectory {
  isMember: (peerId: { toString: () => string }) => boolean
  isTrusted: (peerId: { toString: () => string }) => boolean
  isStorage: (peerId: { toString: () => string }) => boolean
  /** The valid site for a peer id, if any. */
  site: (peerId: { toString: () => string }) => RosterSite | undefined
  /** Peer ids of the valid sites with the `storage` role. */
  storageSites: () => string[]
  trustedSites: () => string[]
}

type Clock = number | (() => number)

function directory (sites: () => readonly RosterSite[], now: Clock): RosterDirectory {
  const at = (): number => typeof now === 'number' ? now : now()
  const valid = (s: RosterSite, t: number): boolean => s.notBefore * 1000 <= t && t < s.expiry * 1000
  const site = (peerId: { toString: () => string }): RosterSite | undefined => {
    const id = peerId.toString()
    const s = sites().find(x => x.peerId === id)
    return s !== undefined && valid(s, at()) ? s : undefined
  }
  const withRole = (role: RosterRole): string[] => {
    const t = at()
    return sites().filter(s => valid(s, t) && s.roles.includes(role)).map(s => s.peerId)
  }
  return {
    isMember: peerId => site(peerId) !== undefined,
    isTrusted: peerId => site(peerId)?.roles.includes('trusted') === true,
    isStorage: peerId => site(peerId)?.roles.includes('storage') === true,
    site,
    storageSites: () => withRole('storage'),
    trustedSites: () => withRole('trusted')
  }
}

/** The sites of `roster` valid at `now` (ms, or a clock read at every query). */
export function rosterMembers (roster: RosterPayload, now: Clock = Date.now): RosterDirectory {
  return directory(() => roster.sites, now)
}

/**
 * The node's current roster: a directory that follows updates. `update`
 * accepts only a newer version of the same federation signed by a threshold
 * of the current authorities.
 */
export class LiveRoster implements RosterDirectory {
  private roster: VerifiedRoster
  private readonly view: RosterDirectory

  constructor (initial: VerifiedRoster, clock: () => number = Date.now) {
    this.roster = initial
    this.view = directory(() => this.roster.sites, clock)
  }

  get current (): VerifiedRoster { return this.roster }

  /** Replaces the roster; returns false (and changes nothing) for an older or equal version. Throws RosterError otherwise. */
  update (candidate: VerifiedRoster): boolean {
    if (candidate.federation !== this.roster.federation) throw new RosterError('WRONG_FEDERATION', 'another federation\'s roster')
    if (candidate.version <= this.roster.version) return false
    if (!signedBy(candidate.signers, this.roster.authorities)) throw new RosterError('THRESHOLD', 'not signed by a threshold of the current authorities')
    this.roster = candidate
    return true
  }

  isMember = (peerId: { toString: () => string }): boolean => this.view.isMember(peerId)
  isTrusted = (peerId: { toString: () => string }): boolean => this.view.isTrusted(peerId)
  isStorage = (peerId: { toString: () => string }): boolean => this.view.isStorage(peerId)
  site = (peerId: { toString: () => string }): RosterSite | undefined => this.view.site(peerId)
  storageSites = (): string[] => this.view.storageSites()
  trustedSites = (): string[] => this.view.trustedSites()
}
