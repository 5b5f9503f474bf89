/**
 * The schema of a hospital's `dm2.json`. Objects are strict: an unknown key is
 * an error (a misspelt `bootstrapp` must not silently leave a node alone).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import {
  DEFAULT_DATA_DIR, DEFAULT_DICOM_AE_TITLE, DEFAULT_DICOM_HOST, DEFAULT_DICOM_PORT,
  DEFAULT_LISTEN, DEFAULT_LOG_LEVEL, LOG_LEVELS
} from './defaults.js'
import { DEFAULT_REPLICATION_FACTOR } from '../replicas/constants.js'

function isMultiaddr (value: string): boolean {
  try {
    multiaddr(value)
    return true
  } catch {
    return false
  }
}

function isPeerId (value: string): boolean {
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}

const multiaddrString = z.string().refine(isMultiaddr, 'not a valid multiaddr')
  .refine(v => v.includes('/tcp/'), 'must be a TCP address (e.g. /ip4/127.0.0.1/tcp/4001)')

const peerMultiaddr = multiaddrString
  .refine(v => /\/p2p\/[^/]+$/.test(v), 'must end with /p2p/<peer id>')
  .refine(v => isPeerId(v.slice(v.lastIndexOf('/p2p/') + 5)), 'ends with an invalid peer id')

const peerIdString = z.string().refine(isPeerId, 'not a valid libp2p peer id')

/** DICOM AE titles: 1–16 characters of the default repertoire, no backslash, not all spaces (PS3.5 §6.2). */
const aeTitle = z.string().min(1).max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'printable ASCII without backslash')
  .refine(v => v.trim().length > 0, 'must not be blank')

const host = z.string().min(1).max(253)
const port = z.number().int().min(0).max(65535)

/** Binary units a byte budget may be written in. */
const BYTE_UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 }
const BYTE_SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)\s*$/

/** A byte budget: a whole number of bytes, or a number and a binary unit (`"8 GiB"`, `"512MiB"`). */
const byteSize = z.union([
  z.number(),
  z.string().regex(BYTE_SIZE, 'a number of bytes, or a number and B, KiB, MiB, GiB or TiB (e.g. "8 GiB")')
    .transform(v => {
      const [, amount, unit] = BYTE_SIZE.exec(v) as RegExpExecArray
      return Math.floor(Number(amount) * (BYTE_UNITS[unit as string] as number))
    })
]).pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))

const dicomEndpoint = (defaults: { aeTitle: string, host: string, port: number }) => z.strictObject({
  aeTitle: aeTitle.default(defaults.aeTitle),
  host: host.default(defaults.host),
  port: port.default(defaults.port)
})

export const hospitalConfigSchema = z.strictObject({
  /** Human name of the hospital; also the log prefix. */
  name: z.string().trim().min(1).max(64),
  /** Where the identity and database live; relative to the config file's folder. */
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  /** libp2p TCP listen addresses. */
  listen: z.array(multiaddrString).min(1).default([...DEFAULT_LISTEN]),
  /** Addresses to announce instead of the listen addresses (NAT, DNS names). */
  announce: z.array(multiaddrString).default([]),
  /** Federation peers dialled at start, each `/…/tcp/N/p2p/<peer id>`. */
  bootstrap: z.array(peerMultiaddr).default([]),
  /** Peer ids of every member site; any other peer is refused after the noise handshake. */
  members: z.array(peerIdString).default([]),
  /** A signed federation roster file (replaces `members`), relative to the config file. */
  roster: z.string().min(1).optional(),
  /** Authority keys (hex Ed25519) and threshold the roster must be signed by. */
  federationAuthorities: z.strictObject({
    keys: z.array(z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits')).min(1).max(16),
    threshold: z.number().int().min(1)
  }).optional(),
  /** This node as a DICOM server (SCP). */
  dicom: dicomEndpoint({ aeTitle: DEFAULT_DICOM_AE_TITLE, host: DEFAULT_DICOM_HOST, port: DEFAULT_DICOM_PORT })
    .prefault({}),
  /** The hospital's own PACS, which this node retrieves from (SCU). */
  pacs: z.strictObject({ aeTitle, host, port: port.min(1) }).optional(),
  /** Replicas of each image this site masters, on distinct storage sites. */
  replicationFactor: z.number().int().min(0).max(16).default(DEFAULT_REPLICATION_FACTOR),
  /**
   * Keep a copy (ciphertext and the signed manifest, never a key) of each
   * image fetched from another hospital in this node's image cache, and read
   * it again while its master vouches for it (getImage's `localCopy`).
   */
  keepCopies: z.boolean().default(true),
  /** Byte budgets of the node's cache layers (LRU-evicted beyond them); each unset one keeps its default. */
  cache: z.strictObject({
    /** Query results (request caching). */
    results: byteSize.optional(),
    /** Sealed images this site masters (image caching). */
    images: byteSize.optional(),
    /** Slices fetched from the hospital PACS (file caching); instances received by C-STORE never count. */
    slices: byteSize.optional(),
    /** Copies of images fetched from other hospitals (`keepCopies`). */
    copies: byteSize.optional()
  }).prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default(DEFAULT_LOG_LEVEL) }).prefault({})
}).superRefine((config, ctx) => {
  if (config.federationAuthorities !== undefined && config.federationAuthorities.threshold > config.federationAuthorities.keys.length) {
    ctx.addIssue({ code: 'custom', path: ['federationAuthorities', 'threshold'], message: 'threshold exceeds the number of keys' })
  }
  // With a roster, membership is the roster's; without one, bootstrap peers must be listed.
  if (config.roster !== undefined) return
  const members = new Set(config.members)
  config.bootstrap.forEach((addr, i) => {
    const peer = addr.slice(addr.lastIndexOf('/p2p/') + 5)
    if (!members.has(peer)) {
      ctx.addIssue({ code: 'custom', path: ['bootstrap', i], message: 'bootstrap peer is not in members' })
    }
  })
})

/** The config as written in the file (before defaults). */
export type HospitalConfigInput = z.input<typeof hospitalConfigSchema>
/** The config after validation and defaults, before paths are resolved. */
export type HospitalConfigParsed = z.output<typeof hospitalConfigSchema>
