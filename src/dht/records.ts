/**
 * Signed DHT records. An LFN record tells where an LFN's master is, which
 * version is current, and the content id and manifest of that version; a site
 * record tells what services a site offers. Both are signed by the peer they
 * name (its libp2p Ed25519 key, which its peer id embeds), over a
 * domain-separated canonical CBOR body, so nobody can publish for another.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { decodeCbor, encodeCbor } from '../codec/cbor.js'
import {
  LFN_RECORD_DOMAIN, MAX_CLOCK_SKEW_MS, MAX_LFN_LENGTH, MAX_RECORD_BYTES, SITE_RECORD_DOMAIN, SITE_SERVICES
} from './constants.js'
import { InvalidRecordError } from './errors.js'

export type MetaValue = string | number
export type SiteService = typeof SITE_SERVICES[number]

export interface LfnRecord {
  lfn: string
  /** Peer id of the master site. */
  master: string
  version: number
  /** Merkle root of the encrypted payload of this version; empty until an image of it is prepared. */
  contentId: Uint8Array
  /** SHA-256 of the signed manifest; empty until prepared. */
  manifestHash: Uint8Array
  /** Descriptive metadata allowed to leave the site (never identifying fields). */
  meta: Record<string, MetaValue>
  issuedAt: number
  expiresAt: number
}

export interface SiteRecord {
  peer: string
  name: string
  services: SiteService[]
  version: number
  issuedAt: number
  expiresAt: number
}

export interface Signed<T> {
  body: T
  /** The exact bytes stored in the DHT. */
  bytes: Uint8Array
}

const MAX_META_ENTRIES = 64
const MAX_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000

function fail (reason: string): never {
  throw new InvalidRecordError(reason)
}

function map (value: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) fail(`${what} is not a map`)
  const o = value as Record<string, unknown>
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${what} has unknown field ${k}`)
  for (const k of keys) if (!(k in o)) fail(`${what} lacks ${k}`)
  return o
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isBytes = (v: unknown, max: number): v is Uint8Array => v instanceof Uint8Array && v.byteLength > 0 && v.byteLength <= max

function peer (v: unknown, what: string): PeerId {
  if (typeof v !== 'string') fail(`${what} is not a peer id`)
  try {
    const id = peerIdFromString(v)
    if (id.type !== 'Ed25519') fail(`${what} is not an Ed25519 peer id`)
    return id
  } catch (err) {
    if (err instanceof InvalidRecordError) throw err
    fail(`${what} is not a peer id`)
  }
}

function checkTimes (issuedAt: unknown, expiresAt: unknown, now: number): void {
  if (!isUint(issuedAt) || !isUint(expiresAt)) fail('bad timestamps')
  if (issuedAt > now + MAX_CLOCK_SKEW_MS) fail('issued in the future')
  if (expiresAt <= now) fail('expired')
  if (expiresAt <= issuedAt || expiresAt - issuedAt > MAX_VALIDITY_MS) fail('bad validity period')
}

function message (domain: string, body: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(domain + '\0')
  const out = new Uint8Array(prefix.byteLength + body.byteLength)
  out.set(prefix)
  out.set(body, prefix.byteLength)
  return out
}

async function sign (domain: string, body: unknown, key: PrivateKey): Promise<Uint8Array> {
  const encoded = encodeCbor(body)
  const sig = await key.sign(message(domain, encoded))
  const bytes = encodeCbor({ body: encoded, sig })
  if (bytes.byteLength > MAX_RECORD_BYTES) fail('record too large')
  return bytes
}

async function open (domain: string, bytes: Uint8Array, signerOf: (body: unknown) => PeerId): Promise<unknown> {
  let outer: Record<string, unknown>
  let body: unknown
  try {
    outer = map(decodeCbor(bytes, MAX_RECORD_BYTES), ['body', 'sig'], 'record')
    if (!(outer.body instanceof Uint8Array) || !(outer.sig instanceof Uint8Array)) fail('malformed record')
    body = decodeCbor(outer.body, MAX_RECORD_BYTES)
  } catch (err) {
    if (err instanceof InvalidRecordError) throw err
    fail(`not canonical CBOR (${(err as Error).message})`)
  }
  const signer = signerOf(body)
  const publicKey = signer.publicKey
  if (publicKey === undefined) fail('signer has no public key')
  if (!await publicKey.verify(message(domain, outer.body as Uint8Array), outer.sig as Uint8Array)) fail('bad signature')
  return body
}

export function lfnKey (lfn: string): Uint8Array {
  return new TextEncoder().encode(`/dm2/lfn/${lfn}`)
}

export function revocationKey (certificateId: string): Uint8Array {
  return new TextEncoder().encode(`/dm2/revocation/${certificateId}`)
}

export function siteKey (peerId: string): Uint8Array {
  return new TextEncoder().encode(`/dm2/site/${peerId}`)
}

function checkLfn (lfn: unknown): string {
  if (typeof lfn !== 'string' || lfn.length === 0 || lfn.length > MAX_LFN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(lfn)) fail('bad lfn')
  return lfn
}

function checkMeta (v: unknown): Record<string, MetaValue> {
  const o = map(v, Object.keys(v as object ?? {}), 'meta')
  const entries = Object.entries(o)
  if (entries.length > MAX_META_ENTRIES) fail('too many metadata entries')
  for (const [k, val] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k)) fail(`bad metadata key ${k}`)
    if (!(typeof val === 'string' && val.length <= 256) && !(typeof val === 'number' && Number.isSafeInteger(val))) fail(`bad metadata value for ${k}`)
  }
  return o as Record<string, MetaValue>
}

const LFN_FIELDS = ['lfn', 'master', 'version', 'contentId', 'manifestHash', 'meta', 'issuedAt', 'expiresAt'] as const

export async function signLfnRecord (record: LfnRecord, key: PrivateKey): Promise<Signed<LfnRecord>> {
  return { body: record, bytes: await sign(LFN_RECORD_DOMAIN, record, key) }
}

/** Decodes and verifies an LFN record: strict fields, the master's signature, validity at `now`. */
export async function openLfnRecord (bytes: Uint8Array, now = Date.now()): Promise<LfnRecord> {
  const body = await open(LFN_RECORD_DOMAIN, bytes, b => peer(map(b, LFN_FIELDS, 'LFN record').master, 'master'))
  const o = map(body, LFN_FIELDS, 'LFN record')
  checkLfn(o.lfn)
  if (!isUint(o.version) || o.version < 1) fail('bad version')
  // Both empty: the series is registered but no image of this version is prepared yet.
  const prepared = o.contentId instanceof Uint8Array && o.contentId.byteLength > 0
  if (prepared ? !isBytes(o.contentId, 128) || !isBytes(o.manifestHash, 64) : !(o.contentId instanceof Uint8Array) || !(o.manifestHash instanceof Uint8Array) || o.manifestHash.byteLength !== 0) fail('bad content id or manifest hash')
  checkMeta(o.meta)
  checkTimes(o.issuedAt, o.expiresAt, now)
  return o as unknown as LfnRecord
}

const SITE_FIELDS = ['peer', 'name', 'services', 'version', 'issuedAt', 'expiresAt'] as const

export async function signSiteRecord (record: SiteRecord, key: PrivateKey): Promise<Signed<SiteRecord>> {
  return { body: record, bytes: await sign(SITE_RECORD_DOMAIN, record, key) }
}

export async function openSiteRecord (bytes: Uint8Array, now = Date.now()): Promise<SiteRecord> {
  const body = await open(SITE_RECORD_DOMAIN, bytes, b => peer(map(b, SITE_FIELDS, 'site record').peer, 'peer'))
  const o = map(body, SITE_FIELDS, 'site record')
  if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 64) fail('bad name')
  if (!Array.isArray(o.services) || o.services.length > SITE_SERVICES.length ||
      !o.services.every(s => (SITE_SERVICES as readonly unknown[]).includes(s)) || new Set(o.services).size !== o.services.length) fail('bad services')
  if (!isUint(o.version) || o.version < 1) fail('bad version')
  checkTimes(o.issuedAt, o.expiresAt, now)
  return o as unknown as SiteRecord
}
