/**
 * kad-dht validator and selector for the `/dm2/…` namespace, with the
 * anti-rollback guard: kad-dht stores any valid record a peer PUTs, even an
 * older one, so every node remembers the newest record it has seen per key
 * (durably) and rejects anything older. Records are ordered by (version,
 * issuedAt): a republication refreshes the issue time of the same version and
 * must keep its content; a different content under the same version is a fork
 * and is refused.
 */
import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { MAX_RECORD_BYTES } from './constants.js'
import { InvalidRecordError } from './errors.js'
import { openLfnRecord, openSiteRecord, type LfnRecord } from './records.js'
import { MAX_REVOCATION_NOTICE_BYTES, openRevocation } from '../sac/index.js'

/** Who may publish: roster members only. */
export interface Membership {
  isMember: (peerId: PeerId) => boolean
}

/** Durable key → value storage (a level sublevel). */
export interface KeyValueStore {
  get: (key: string) => Promise<Uint8Array | undefined>
  put: (key: string, value: Uint8Array, options?: { sync?: boolean }) => Promise<void>
}

export interface RecordValidatorInit {
  members: Membership
  /** Highest version seen per DHT key. */
  versions: KeyValueStore
  now?: () => number
}

interface Parsed { kind: 'lfn' | 'site' | 'revocation', id: string, version: number, issuedAt: number, publisher: string, content: Uint8Array, lfn?: LfnRecord }

function parseKey (key: Uint8Array): { kind: 'lfn' | 'site' | 'revocation', id: string } {
  const m = /^\/dm2\/(lfn|site|revocation)\/([A-Za-z0-9_-]{1,128})$/.exec(new TextDecoder().decode(key))
  if (m === null) throw new InvalidRecordError('unknown key')
  return { kind: m[1] as 'lfn' | 'site' | 'revocation', id: m[2] as string }
}

/**
 * A revocation notice is self-certifying (the revoker's signature and the
 * chain proving it may revoke) and permanent: any valid notice for the key's
 * certificate is as good as another, so no version guard applies.
 */
function validateRevocation (id: string, value: Uint8Array, now: number): void {
  let target: string
  try {
    target = openRevocation(value, { now }).target
  } catch (err) {
    throw new InvalidRecordError(`bad revocation notice (${(err as Error).name})`)
  }
  if (target !== id) throw new InvalidRecordError('notice revokes another certificate')
}

async function parse (key: Uint8Array, value: Uint8Array, now: number): Promise<Parsed | undefined> {
  const { kind, id } = parseKey(key)
  if (kind === 'revocation') {
    if (value.byteLength > MAX_REVOCATION_NOTICE_BYTES) throw new InvalidRecordError('record too large')
    validateRevocation(id, value, now)
    return undefined
  }
  if (value.byteLength > MAX_RECORD_BYTES) throw new InvalidRecordError('record too large')
  if (kind === 'lfn') {
    const r = await openLfnRecord(value, now)
    if (r.lfn !== id) throw new InvalidRecordError('record is for another LFN')
    const content = createHash('sha256').update(r.contentId).update(r.manifestHash).digest()
    return { kind, id, version: r.version, issuedAt: r.issuedAt, publisher: r.master, content, lfn: r }
  }
  const r = await openSiteRecord(value, now)
  if (r.peer !== id) throw new InvalidRecordError('record is for another site')
  const content = createHash('sha256').update(JSON.stringify([r.name, r.services])).digest()
  return { kind, id, version: r.version, issuedAt: r.issuedAt, publisher: r.peer, content }
}

interface Seen { version: number, issuedAt: number, content: Uint8Array }

/** The content digest of an LFN record with no prepared image. */
const UNPREPARED = createHash('sha256').update(new Uint8Array(0)).update(new Uint8Array(0)).digest()

function encodeSeen (seen: Seen): Uint8Array {
  const out = new Uint8Array(16 + seen.content.byteLength)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(seen.version))
  view.setBigUint64(8, BigInt(seen.issuedAt))
  out.set(seen.content, 16)
  return out
}

function decodeSeen (bytes: Uint8Array): Seen {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { version: Number(view.getBigUint64(0)), issuedAt: Number(view.getBigUint64(8)), content: bytes.subarray(16) }
}

export class RecordValidator {
  private readonly init: RecordValidatorInit

  private readonly lfnListeners = new Set<(record: LfnRecord) => void>()

  constructor (init: RecordValidatorInit) {
    this.init = init
  }

  /**
   * Hears every LFN record this node accepts (put to it, or met in a
   * lookup), once it has passed every check; returns the unsubscribe.
   */
  onLfnRecord (listener: (record: LfnRecord) => void): () => void {
    this.lfnListeners.add(listener)
    return () => { this.lfnListeners.delete(listener) }
  }

  private accepted (parsed: Parsed): void {
    if (parsed.lfn === undefined) return
    for (const listener of this.lfnListeners) listener(parsed.lfn)
  }

  private now (): number { return this.init.now?.() ?? Date.now() }

  /** Throws `InvalidRecordError` unless the record is valid and not older than what this node has seen. */
  readonly validate = async (key: Uint8Array, value: Uint8Array): Promise<void> => {
    const parsed = await parse(key, value, this.now())
    if (parsed === undefined) return
    if (!this.init.members.isMember(peerIdFromString(parsed.publisher))) throw new InvalidRecordError('publisher is not a federation member')
    const dsKey = new TextDecoder().decode(key)
    const stored = await this.init.versions.get(dsKey)
    if (stored !== undefined) {
      const seen = decodeSeen(stored)
      if (parsed.version < seen.version) throw new InvalidRecordError(`rollback: version ${parsed.version} < ${seen.version}`)
      if (parsed.version === seen.version) {
        // Registered-then-prepared is the one content change a version may make.
        const wasUnprepared = Buffer.compare(seen.content, UNPREPARED) === 0
        if (Buffer.compare(seen.content, parsed.content) !== 0 && !wasUnprepared) throw new InvalidRecordError('a different record under the same version')
        if (parsed.issuedAt < seen.issuedAt) throw new InvalidRecordError('an older issue of the same version')
        if (parsed.issuedAt === seen.issuedAt) {
          this.accepted(parsed)
          return
        }
      }
    }
    await this.init.versions.put(dsKey, encodeSeen(parsed), { sync: true })
    this.accepted(parsed)
  }

  /** Picks the valid record with the highest (version, issuedAt). */
  readonly select = async (key: Uint8Array, records: Uint8Array[]): Promise<number> => {
    let best = -1
    let bestVersion = -1
    let bestIssued = -1
    for (const [i, r] of records.entries()) {
      try {
        const p = await parse(key, r, this.now())
        if (p === undefined) return i
        if (p.version > bestVersion || (p.version === bestVersion && p.issuedAt > bestIssued)) {
          best = i
          bestVersion = p.version
          bestIssued = p.issuedAt
        }
      } catch {}
    }
    if (best < 0) throw new InvalidRecordError('no valid record')
    return best
  }
}
