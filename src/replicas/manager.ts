/**
 * The replica manager of a master site: for every LFN version this site
 * masters and has prepared, keep `replicationFactor` replicas on distinct
 * storage-role sites (never on the master itself, never two on one site),
 * choosing the sites with the lowest measured round-trip time; when a holder
 * has been away longer than the grace period, place a new replica elsewhere.
 * Liveness comes from connection events (`peerConnected`/`peerDisconnected`,
 * wired to libp2p's `peer:connect`/`peer:disconnect`) and failed pings.
 * Logs carry LFNs and peer ids only.
 */
import type { AbortOptions, Logger, PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { LRUCache } from 'lru-cache'
import type { CID } from 'multiformats/cid'
import PQueue from 'p-queue'
import { contentIdToCid } from '../privacy/payload/index.js'
import { DEFAULT_CONCURRENCY, DEFAULT_GRACE_MS, DEFAULT_RECONCILE_MS, DEFAULT_REPLICATION_FACTOR, PING_TIMEOUT_MS, RTT_CACHE_MS } from './constants.js'
import { NotEligibleError, NotMasteredError } from './errors.js'
import { Liveness, plan, rankByRtt } from './placement.js'
import type { ReplicateRequest, ReplicateResult } from './protocol.js'
import { signTicket } from './ticket.js'

/** A prepared version this site masters. */
export interface MasteredVersion {
  lfn: string
  version: number
  contentId: Uint8Array
  /** The signed manifest (wire form). */
  manifest: Uint8Array
}

export interface ReplicaManagerInit {
  peerId: PeerId
  /** Signs replication tickets. */
  privateKey: PrivateKey
  /** Site policy; default 2. */
  replicationFactor?: number
  graceMs?: number
  reconcileMs?: number
  concurrency?: number
  storageSites: () => string[]
  /** The current prepared version of every LFN this site masters. */
  mastered: () => Promise<MasteredVersion[]>
  /** DHT providers of a content id ([] when none). */
  findHolders: (cid: CID, options?: AbortOptions) => Promise<PeerId[]>
  /** `/dm2/replicate/1.0.0` client (`libp2p.services.replicate.request`). */
  replicate: (peer: PeerId, request: ReplicateRequest, options?: AbortOptions) => Promise<ReplicateResult>
  /** Round-trip time in ms (`libp2p.services.ping.ping`). */
  ping: (peer: PeerId, options?: AbortOptions) => Promise<number>
  log: Logger
  now?: () => number
}

export interface EnsureReport {
  lfn: string
  version: number
  live: string[]
  placed: string[]
  failed: string[]
}

export class ReplicaManager {
  readonly liveness: Liveness
  private readonly init: ReplicaManagerInit
  private readonly rtt = new LRUCache<string, number>({ max: 4096, ttl: RTT_CACHE_MS })
  /** Our own successful placements, by content id hex: the DHT may lag behind them. */
  private readonly placed = new Map<string, Set<string>>()
  private readonly queue: PQueue
  private timer?: NodeJS.Timeout
  private controller?: AbortController
  private running?: Promise<unknown>

  constructor (init: ReplicaManagerInit) {
    this.init = init
    this.liveness = new Liveness(init.now)
    this.queue = new PQueue({ concurrency: init.concurrency ?? DEFAULT_CONCURRENCY })
  }

  get factor (): number { return this.init.replicationFactor ?? DEFAULT_REPLICATION_FACTOR }
  private get self (): string { return this.init.peerId.toString() }

  peerConnected = (peer: PeerId | string): void => { this.liveness.up(peer.toString()) }
  peerDisconnected = (peer: PeerId | string): void => { this.liveness.down(peer.toString()) }

  /** Reconciles now and then every `reconcileMs`, until stop(). */
  start (): void {
    this.controller = new AbortController()
    const tick = (): void => {
      if (this.running !== undefined) return
      this.running = this.reconcile({ signal: this.controller?.signal })
        .catch(err => { this.init.log.error('reconcile failed: %s', (err as Error).message) })
        .finally(() => { this.running = undefined })
    }
    tick()
    this.timer = setInterval(tick, this.init.reconcileMs ?? DEFAULT_RECONCILE_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.controller?.abort()
    this.queue.clear()
    await this.running
  }

  /** Measured RTT in ms (cached briefly); undefined, and the peer marked down, when it does not answer. */
  async measure (peer: string, options: AbortOptions = {}): Promise<number | undefined> {
    const cached = this.rtt.get(peer)
    if (cached !== undefined) return cached
    const timeout = AbortSignal.timeout(PING_TIMEOUT_MS)
    try {
      const ms = await this.init.ping(peerIdFromString(peer), { signal: options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]) })
      this.rtt.set(peer, ms)
      this.liveness.up(peer)
      return ms
    } catch {
      this.liveness.down(peer)
      return undefined
    }
  }

  /** Best sources for a reader: measured, fastest first, unreachable ones last. */
  async rankSources (peers: readonly PeerId[], options: AbortOptions = {}): Promise<PeerId[]> {
    await Promise.all(peers.map(async p => await this.measure(p.toString(), options)))
    return rankByRtt(peers, p => this.liveness.isDown(p) ? undefined : this.rtt.get(p))
  }

  /** Every known holder of a content id (DHT providers and our placements), except this site. */
  async holders (contentId: Uint8Array, options: AbortOptions = {}): Promise<string[]> {
    const found = await this.init.findHolders(contentIdToCid(contentId), options).catch(() => [])
    const all = new Set([...found.map(p => p.toString()), ...(this.placed.get(Buffer.from(contentId).toString('hex')) ?? [])])
    all.delete(this.self)
    return [...all]
  }

  /** One pass over every mastered LFN. */
  async reconcile (options: AbortOptions = {}): Promise<EnsureReport[]> {
    const versions = await this.init.mastered()
    return await Promise.all(versions.map(async v => await this.ensure(v, options)))
  }

  /** Brings one version's replicas up to the factor. */
  async ensure (v: MasteredVersion, options: AbortOptions = {}): Promise<EnsureReport> {
    const graceMs = this.init.graceMs ?? DEFAULT_GRACE_MS
    const holders = await this.holders(v.contentId, options)
    const p = plan({ factor: this.factor, self: this.self, storageSites: this.init.storageSites(), holders, alive: peer => this.liveness.alive(peer, graceMs) })
    const report: EnsureReport = { lfn: v.lfn, version: v.version, live: p.live, placed: [], failed: [] }
    if (p.needed === 0) return report
    const ranked = rankByRtt(p.candidates, () => undefined)
    await Promise.all(ranked.map(async c => await this.measure(c, options)))
    const reachable = rankByRtt(ranked.filter(c => this.rtt.has(c)), c => this.rtt.get(c))
    // Try the fastest first; a failed site is replaced by the next one until the factor holds or none is left.
    let next = 0
    let inFlight = 0
    const worker = async (): Promise<void> => {
      while (report.placed.length + inFlight < p.needed && next < reachable.length) {
        const site = reachable[next++] as string
        inFlight++
        try {
          await this.queue.add(async () => { await this.placeOn(v, site, p.live, options) }, options)
          report.placed.push(site)
        } catch (err) {
          report.failed.push(site)
          this.init.log('replica of %s v%d on %s failed: %s', v.lfn, v.version, site, (err as Error).name)
        } finally {
          inFlight--
        }
      }
    }
    await Promise.all(Array.from({ length: p.needed }, worker))
    if (report.placed.length < p.needed) this.init.log('%s v%d has %d of %d replicas: not enough storage sites', v.lfn, v.version, p.live.length + report.placed.length, this.factor)
    return report
  }

  private async placeOn (v: MasteredVersion, site: string, sources: string[], options: AbortOptions): Promise<ReplicateResult> {
    const ticket = await signTicket(this.init.privateKey, { contentId: v.contentId, holder: site, master: this.self, ...(this.init.now === undefined ? {} : { now: this.init.now() }) })
    const result = await this.init.replicate(peerIdFromString(site), { lfn: v.lfn, version: v.version, manifest: v.manifest, ticket, sources: sources.filter(s => s !== site) }, options)
    const key = Buffer.from(v.contentId).toString('hex')
    this.placed.set(key, (this.placed.get(key) ?? new Set()).add(site))
    this.init.log('placed replica of %s v%d on %s (%d chunks fetched)', v.lfn, v.version, site, result.fetched)
    return result
  }

  /** `dm2 replicate <lfn> --to <site>`: one replica on a named storage site, whatever the factor. */
  async replicateTo (lfn: string, site: string, options: AbortOptions = {}): Promise<{ lfn: string, version: number, site: string, fetched: number }> {
    const v = (await this.init.mastered()).find(m => m.lfn === lfn)
    if (v === undefined) throw new NotMasteredError(lfn)
    if (site === this.self) throw new NotEligibleError(site, 'it is the master')
    if (!this.init.storageSites().includes(site)) throw new NotEligibleError(site, 'not a storage site of the roster')
    const live = (await this.holders(v.contentId, options)).filter(h => h !== site)
    const result = await this.placeOn(v, site, live, options)
    return { lfn, version: v.version, site, fetched: result.fetched }
  }
}
