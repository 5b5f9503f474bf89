/**
 * Localization: which hospitals hold an LFN, and what its current version is.
 * The master publishes a signed LFN record under `/dm2/lfn/<lfn>` and, like
 * every replica holder, a provider record for the version's content id.
 * Records are republished before they expire; successful lookups are cached
 * briefly; a lookup that finds nothing throws `NotLocatedError`.
 */
import { setMaxListeners } from 'node:events'
import type { AbortOptions, Logger, PeerId, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { LRUCache } from 'lru-cache'
import type { CID } from 'multiformats/cid'
import {
  DHT_QUERY_TIMEOUT_MS, LOOKUP_CACHE_MS, LOOKUP_CACHE_SIZE, KNOWN_RECORDS, RECORD_VALIDITY_MS, REPUBLISH_BEFORE_EXPIRY_MS, REPUBLISH_CHECK_MS
} from './constants.js'
import { NotLocatedError, PublishError } from './errors.js'
import {
  lfnKey, openLfnRecord, revocationKey, openSiteRecord, signLfnRecord, signSiteRecord, siteKey,
  type LfnRecord, type MetaValue, type SiteRecord, type SiteService
} from './records.js'
import type { RecordValidator } from './validator.js'

export interface LocalizationInit {
  dht: KadDHT
  privateKey: PrivateKey
  peerId: PeerId
  validator: RecordValidator
  log: Logger
  now?: () => number
  validityMs?: number
  republishBeforeMs?: number
  republishCheckMs?: number
  cacheMs?: number
}

export interface PublishLfnInput {
  lfn: string
  version: number
  contentId: Uint8Array
  manifestHash: Uint8Array
  meta: Record<string, MetaValue>
  /** The content id as a CID, for provider records; absent for a registered but unprepared version. */
  cid?: CID
}

function withTimeout (options: AbortOptions = {}): AbortOptions {
  const timeout = AbortSignal.timeout(DHT_QUERY_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  // One DHT query listens on its signal once per peer asked (k = 20 and more): not a leak.
  setMaxListeners(Infinity, signal)
  return { signal }
}

export class Localization {
  private readonly init: LocalizationInit
  private readonly cache: LRUCache<string, LfnRecord>
  /** What this node publishes, to republish before expiry. */
  private readonly published = new Map<string, { kind: 'lfn', input: PublishLfnInput, expiresAt: number } | { kind: 'site', input: { name: string, services: SiteService[], version: number }, expiresAt: number }>()
  private timer?: NodeJS.Timeout
  /**
   * LFN records this node accepted (its own, those put to it as one of the k
   * closest, those met in lookups), newest per LFN, until they expire:
   * enough to name an LFN's master without asking the network.
   */
  private readonly known: LRUCache<string, LfnRecord>
  private readonly unlisten: () => void

  constructor (init: LocalizationInit) {
    this.init = init
    this.cache = new LRUCache({ max: LOOKUP_CACHE_SIZE, ttl: init.cacheMs ?? LOOKUP_CACHE_MS })
    this.known = new LRUCache({ max: KNOWN_RECORDS })
    this.unlisten = init.validator.onLfnRecord(record => { this.remember(record) })
  }

  private remember (record: LfnRecord): void {
    const ttl = record.expiresAt - this.now()
    if (ttl <= 0) return
    const current = this.known.get(record.lfn)
    if (current !== undefined && (current.version > record.version || (current.version === record.version && current.issuedAt > record.issuedAt))) return
    this.known.set(record.lfn, record, { ttl })
  }

  private now (): number { return this.init.now?.() ?? Date.now() }

  start (): void {
    this.timer = setInterval(() => { this.republishDue().catch(err => { this.init.log.error('republish failed: %s', (err as Error).message) }) }, this.init.republishCheckMs ?? REPUBLISH_CHECK_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.unlisten()
  }

  /** Puts a signed record and counts the peers that stored it (kad-dht's put does not throw on refusals). */
  private async put (key: Uint8Array, bytes: Uint8Array, options?: AbortOptions): Promise<number> {
    // Our own guard first: never publish what the federation would refuse.
    await this.init.validator.validate(key, bytes)
    let stored = 0
    for await (const event of this.init.dht.put(key, bytes, withTimeout(options))) {
      if (event.name === 'PEER_RESPONSE' && event.record != null && Buffer.compare(event.record.value, bytes) === 0) stored++
    }
    return stored
  }

  /** Publishes (or republishes) this node's LFN record and provides its content id. */
  async publishLfn (input: PublishLfnInput, options?: AbortOptions): Promise<LfnRecord> {
    const issuedAt = this.now()
    const expiresAt = issuedAt + (this.init.validityMs ?? RECORD_VALIDITY_MS)
    const record: LfnRecord = {
      lfn: input.lfn,
      master: this.init.peerId.toString(),
      version: input.version,
      contentId: input.contentId,
      manifestHash: input.manifestHash,
      meta: input.meta,
      issuedAt,
      expiresAt
    }
    const signed = await signLfnRecord(record, this.init.privateKey)
    const stored = await this.put(lfnKey(input.lfn), signed.bytes, options)
    if (input.cid !== undefined) await this.provide(input.cid, options)
    this.published.set(`lfn:${input.lfn}`, { kind: 'lfn', input, expiresAt })
    this.cache.set(input.lfn, record)
    this.init.log('published LFN %s v%d to %d peers', input.lfn, input.version, stored)
    if (stored === 0) throw new PublishError(`no peer stored the record of LFN ${input.lfn}`)
    return record
  }

  /** True when this node has published a record of `lfn` (and keeps it fresh). */
  announced (lfn: string): boolean {
    return this.published.has(`lfn:${lfn}`)
  }

  /** Announces that this node holds the content (master or replica). */
  async provide (cid: CID, options?: AbortOptions): Promise<void> {
    for await (const event of this.init.dht.provide(cid, withTimeout(options))) {
      if (event.name === 'QUERY_ERROR') this.init.log.trace('provide: %s', event.error.message)
    }
  }

  /**
   * The newest valid LFN record in the federation: from the cache (unless
   * `fresh`), else from the DHT. `first`: a valid record this node already
   * holds will do, without asking the network for a newer version — enough
   * for whoever only needs the master, which never changes for an LFN.
   */
  async resolveLfn (lfn: string, options: AbortOptions & { fresh?: boolean, first?: boolean } = {}): Promise<LfnRecord> {
    const cached = options.fresh === true ? undefined : this.cache.get(lfn)
    if (cached !== undefined) return cached
    if (options.first === true) {
      const known = this.known.get(lfn)
      if (known !== undefined && known.expiresAt > this.now()) return known
    }
    let best: Uint8Array | undefined
    try {
      for await (const event of this.init.dht.get(lfnKey(lfn), withTimeout(options))) {
        // kad-dht validates each value and yields the best one last.
        if (event.name === 'VALUE') best = event.value
      }
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError') throw err
    }
    if (best === undefined) throw new NotLocatedError(`LFN ${lfn}`)
    const record = await openLfnRecord(best, this.now())
    this.cache.set(lfn, record)
    return record
  }

  /** Peers that announced they hold `cid`. */
  async findHolders (cid: CID, options?: AbortOptions): Promise<PeerId[]> {
    const holders = new Map<string, PeerId>()
    try {
      for await (const event of this.init.dht.findProviders(cid, withTimeout(options))) {
        if (event.name === 'PROVIDER') for (const p of event.providers) holders.set(p.id.toString(), p.id)
      }
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError' && holders.size === 0) throw err
    }
    if (holders.size === 0) throw new NotLocatedError(`content ${cid.toString()}`)
    return [...holders.values()]
  }

  /** Publishes this site's record: its name and the services it offers. */
  async publishSite (input: { name: string, services: SiteService[], version: number }, options?: AbortOptions): Promise<SiteRecord> {
    const issuedAt = this.now()
    const expiresAt = issuedAt + (this.init.validityMs ?? RECORD_VALIDITY_MS)
    const record: SiteRecord = { peer: this.init.peerId.toString(), ...input, issuedAt, expiresAt }
    const signed = await signSiteRecord(record, this.init.privateKey)
    await this.put(siteKey(record.peer), signed.bytes, options)
    this.published.set('site', { kind: 'site', input, expiresAt })
    return record
  }

  async resolveSite (peer: PeerId, options?: AbortOptions): Promise<SiteRecord> {
    let best: Uint8Array | undefined
    try {
      for await (const event of this.init.dht.get(siteKey(peer.toString()), withTimeout(options))) {
        if (event.name === 'VALUE') best = event.value
      }
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError') throw err
    }
    if (best === undefined) throw new NotLocatedError(`site ${peer.toString()}`)
    return await openSiteRecord(best, this.now())
  }

  /** Stores a revocation notice under `/dm2/revocation/<certificate id>`. */
  async publishRevocation (target: string, notice: Uint8Array, options?: AbortOptions): Promise<number> {
    return await this.put(revocationKey(target), notice, options)
  }

  /** The revocation notice of a certificate, if the federation has one. */
  async findRevocation (target: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    let found: Uint8Array | undefined
    try {
      for await (const event of this.init.dht.get(revocationKey(target), withTimeout(options))) {
        if (event.name === 'VALUE') found = event.value
      }
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError' && (err as Error).name !== 'AbortError') throw err
    }
    return found
  }

  /** Republishes every record of ours that expires soon. */
  async republishDue (): Promise<number> {
    const due = [...this.published.values()].filter(p => p.expiresAt - this.now() < (this.init.republishBeforeMs ?? REPUBLISH_BEFORE_EXPIRY_MS))
    for (const p of due) {
      if (p.kind === 'lfn') await this.publishLfn(p.input)
      else await this.publishSite(p.input)
    }
    return due.length
  }
}
