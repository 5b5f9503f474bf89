/**
 * A hospital node, started in order: identity, database, the DICOM edge,
 * the data plane, similarity, the network (network.ts), replication and the
 * control channel (node-control.ts). `stop()` may be called at any time,
 * including during `start()`: whatever was opened so far is closed, in
 * reverse order.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { IDENTITY_FILE_NAME } from '../config/defaults.js'
import type { HospitalConfig } from '../config/load.js'
import type { ControlHandler } from '../control/index.js'
import type { Localization } from '../dht/index.js'
import type { SeriesCatalog, SliceProvider } from '../imaging/types.js'
import { signerFromSeed, type ResourceDescriptor, type SeededSigner } from '../sac/index.js'
import { hospitalLogger } from '../log/index.js'
import { staticMembers, type AdmissionStats, type MemberDirectory } from './admission.js'
import { announceAll, DeferredAnnouncer, RegistrationAnnouncer, type AnnounceDeps } from './announce.js'
import type { PublishInput } from '../imaging/prepare.js'
import { servingData, startNetwork } from './network.js'
import { nodeStatus, startNodeControl } from './node-control.js'
import { DataPlane } from './data-plane.js'
import { registryCatalog, registrySlices } from './dicom-edge.js'
import { levelUseTimes, openCacheFills, type CacheFills } from './cache-fills.js'
import { budgetLimits, DEFAULT_SLICE_BYTES } from '../cache/index.js'
import { registryRecords } from './query-records.js'
import { startReplication } from './replication.js'
import { loadRoster, SiteRoles } from './roles.js'
import { NodeSimilarity, type SimilarityOptions } from './similarity/index.js'
import type { ReplicaManager } from '../replicas/index.js'
import { openStandaloneEdge, type StandaloneEdge } from '../dicom/standalone.js'
import { openNodeDatabase, type NodeDatabase } from './database.js'
import { NodeNotStartedError, StartAbortedError } from './errors.js'
import { loadOrCreateIdentity, type Identity } from './identity.js'
import type { HospitalLibp2p } from './libp2p.js'

export type NodeState = 'stopped' | 'starting' | 'started' | 'stopping'

export type { NodeDatabase } from './database.js'

export interface HospitalNodeOptions {
  /** The series this site is master of (default: the registry). */
  catalog?: SeriesCatalog
  /** Brings a series' slices to disk (default: slice store, then the PACS). */
  slices?: SliceProvider
  /** Logger to use instead of one prefixed with the hospital name. */
  logger?: ComponentLogger
  /** Replication timings (tests shorten them). */
  replication?: { graceMs?: number, reconcileMs?: number }
  /** Member directory to use instead of `config.members` (the signed roster, tests). */
  members?: MemberDirectory
  /** The similarity index: memory bound, hooks (tests, benchmarks). */
  similarity?: SimilarityOptions
}

export class HospitalNode {
  readonly config: HospitalConfig
  readonly logger: ComponentLogger
  private readonly log: Logger
  private members: MemberDirectory
  private state: NodeState = 'stopped'
  private starting?: Promise<void>
  private stopping?: Promise<void>
  private abortStart?: AbortController
  /** Closers of what `start()` opened, run in reverse by `stop()`. */
  private closers: Array<() => Promise<void> | void> = []
  private identity?: Identity
  private _libp2p?: HospitalLibp2p
  private _db?: NodeDatabase
  private _admission?: AdmissionStats
  private _localization?: Localization
  private _dataPlane?: DataPlane
  private _dicom?: StandaloneEdge
  private _fills?: CacheFills
  private _replicas?: ReplicaManager
  private _similarity?: NodeSimilarity
  /** Announcements of newly registered series (a few DHT puts at a time). */
  private readonly registrations = new RegistrationAnnouncer(() => this.state === 'started' ? this.announceDeps() : undefined)
  private readonly options: HospitalNodeOptions
  /** Commands of the local control channel; modules add theirs. */
  readonly controlHandlers: Record<string, ControlHandler> = {}

  constructor (config: HospitalConfig, options: HospitalNodeOptions = {}) {
    this.config = config
    this.logger = options.logger ?? hospitalLogger(config.name)
    this.log = this.logger.forComponent('dm2:node')
    this.members = options.members ?? staticMembers(config.members)
    this.options = options
  }

  /**
   * The site's own signing key as a certificate issuer: the master hospital
   * acting for its patients is the root of the certificates for its data.
   * (The libp2p Ed25519 key; its seed is the first 32 bytes of the raw key.)
   */
  siteSigner (): SeededSigner {
    if (this.identity === undefined) throw new NodeNotStartedError()
    return signerFromSeed(this.identity.privateKey.raw.subarray(0, 32))
  }

  metadataSites (): string[] {
    return this.roles.metadataSites()
  }

  private get roles (): SiteRoles {
    return new SiteRoles(this.members, this.config.members)
  }

  /** Keeps the replicas of the images this site masters. */
  get replicas (): ReplicaManager {
    if (this._replicas === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._replicas
  }

  /** The feature index, diagnoses and similarity services of this site. */
  get similarity (): NodeSimilarity {
    if (this._similarity === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._similarity
  }

  /** Registry, slice store, SCP and PACS pool. */
  get dicom (): StandaloneEdge {
    if (this._dicom === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._dicom
  }

  /** Access control, audit log, caches, data keys and the image pipeline. */
  get dataPlane (): DataPlane {
    if (this._dataPlane === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._dataPlane
  }

  get status (): NodeState { return this.state }

  /** The node's peer id; known once `start()` has loaded the identity. */
  get peerId (): PeerId {
    if (this.identity === undefined) throw new NodeNotStartedError()
    return this.identity.peerId
  }

  get libp2p (): HospitalLibp2p {
    if (this._libp2p === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._libp2p
  }

  get db (): NodeDatabase {
    if (this._db === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._db
  }

  /** LFN and site records, provider records: where things are in the federation. */
  get localization (): Localization {
    if (this._localization === undefined || this.state !== 'started') throw new NodeNotStartedError()
    return this._localization
  }

  /** Refused connections since start. */
  get admission (): AdmissionStats {
    return this._admission ?? { refusedInbound: 0, refusedOutbound: 0 }
  }

  /** Addresses the node listens on, with its `/p2p/` suffix. */
  getMultiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /** Opens identity, database and network. Idempotent; concurrent calls share one start. */
  async start (): Promise<void> {
    if (this.state === 'started') return
    if (this.stopping !== undefined) throw new StartAbortedError('the node is stopping')
    this.starting ??= this.runStart().finally(() => { this.starting = undefined })
    await this.starting
  }

  private async runStart (): Promise<void> {
    this.state = 'starting'
    this.abortStart = new AbortController()
    try {
      await this.doStart(this.abortStart.signal)
      this.state = 'started'
      // Every registered series is announced again (the node may have been away).
      const deps = this.announceDeps()
      const edge = this._dicom
      if (deps !== undefined && edge !== undefined && this.options.catalog === undefined) {
        const announcer = announceAll(deps, async () => (await edge.registry.list({ state: 'registered' })).map(r => r.lfn))
        this.closers.push(async () => { await announcer.stop() })
      }
    } catch (err) {
      await this.closeAll()
      this.state = 'stopped'
      throw err
    } finally {
      this.abortStart = undefined
    }
  }

  private async doStart (signal: AbortSignal): Promise<void> {
    const checkpoint = (): void => { if (signal.aborted) throw new StartAbortedError() }
    const { config } = this
    // The roster is read before anything is created: a bad one leaves no trace.
    if (config.roster !== undefined && this.options.members === undefined) this.members = await loadRoster(config)
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
    this.identity = await loadOrCreateIdentity(join(config.dataDir, IDENTITY_FILE_NAME))
    if (this.identity.created) this.log('created identity %p', this.identity.peerId)
    checkpoint()

    const db = await openNodeDatabase(config.dataDir)
    this._db = db
    this.closers.push(async () => { await db.close(); this._db = undefined })
    checkpoint()

    // The DICOM edge: the registry, the slice store, the SCP for imagers and the pool towards the PACS.
    const edge = await openStandaloneEdge({
      dataDir: config.dataDir,
      db,
      logger: this.logger,
      aeTitle: config.dicom.aeTitle,
      scp: { host: config.dicom.host, port: config.dicom.port },
      onRegistered: series => { this.announce(series.lfn); this._similarity?.registered(series.lfn) },
      ...(config.pacs === undefined ? {} : { pacs: { aeTitle: config.pacs.aeTitle, host: config.pacs.host, port: config.pacs.port } })
    })
    this._dicom = edge
    this.closers.push(async () => { await edge.close(); this._dicom = undefined })
    checkpoint()
    // Slices fetched from the PACS, within their byte budget (see cache-fills.ts).
    const fills = await openCacheFills(edge, config.cache.slices ?? DEFAULT_SLICE_BYTES, this.logger.forComponent('dm2:slices'),
      levelUseTimes(db.sublevel<string, string>('slice-uses', { valueEncoding: 'utf8' })))
    this._fills = fills
    const slices = this.options.slices ?? registrySlices(edge, fills)

    // Foreground work: an image, chunk or key stream open (background jobs wait for it to end).
    const serving = (): boolean => servingData(this._libp2p)
    const updates = new DeferredAnnouncer<PublishInput>({
      publish: async (input) => { await this.localization.publishLfn(input) },
      busy: serving,
      log: this.logger.forComponent('dm2:announce')
    })
    const dataPlane: DataPlane = new DataPlane({
      db,
      dataDir: config.dataDir,
      cacheLimits: budgetLimits(config.cache),
      privateKey: this.identity.privateKey,
      peerId: this.identity.peerId,
      logger: this.logger,
      catalog: this.options.catalog ?? registryCatalog(edge),
      slices,
      publish: async (input) => {
        this._similarity?.prepared(input.lfn, input.version, input.contentId)
        // Already locatable: the update with the content id waits for a quiet moment (DeferredAnnouncer).
        if (this.localization.announced(input.lfn)) { await updates.add(input); return }
        await this.localization.publishLfn(input)
      },
      records: registryRecords({
        edge,
        site: config.name,
        resourceOf: async (lfn, version, attrs): Promise<ResourceDescriptor> => await dataPlane.descriptor(lfn, version, attrs),
        diagnosed: lfn => this._similarity?.index.hasDiagnosis(lfn) ?? false
      }),
      findRevocation: async (id) => await this.localization.findRevocation(id),
      members: { isMember: peer => this.roles.isMember(peer), isStorage: peer => this.roles.isStorage(peer) },
      resolveLfn: async lfn => await this.localization.resolveLfn(lfn),
      site: config.name,
      fetchChunks: async options => await this.libp2p.services.chunks.fetch(options),
      provide: async (cid, options) => { await this.localization.provide(cid, options) }
    })
    await dataPlane.open()
    this._dataPlane = dataPlane
    this.closers.push(async () => { await dataPlane.close(); this._dataPlane = undefined })
    // Before the data plane closes (closers run last first): it waits for its announcements.
    this.closers.push(() => { updates.stop() })
    checkpoint()

    // Features at ingest, diagnoses, and the similarity services (src/node/similarity).
    const similarity = await NodeSimilarity.open({
      db,
      dataPlane,
      catalog: this.options.catalog ?? registryCatalog(edge),
      slices,
      slicesOnDisk: async lfn => (await edge.registry.instances(lfn)).every(i => i.file !== undefined),
      registered: async () => (await edge.registry.list({ state: 'registered' })).map(s => s.lfn),
      peerId: this.identity.peerId.toString(),
      logger: this.logger,
      serving,
      ...(this.options.similarity === undefined ? {} : { options: this.options.similarity })
    })
    this._similarity = similarity
    this.closers.push(async () => { await similarity.close(); this._similarity = undefined })
    checkpoint()

    // Closers run last first: these references go once the network below has stopped.
    this.closers.push(() => { this._libp2p = undefined; this._localization = undefined })
    const network = await startNetwork({
      config,
      privateKey: this.identity.privateKey,
      members: this.members,
      isMember: peer => this.roles.isMember(peer),
      db,
      dataPlane,
      similarity,
      logger: this.logger,
      onClose: close => { this.closers.push(close) },
      checkpoint,
      built: libp2p => { this._libp2p = libp2p }
    })
    const { libp2p, localization } = network
    this._admission = network.admission
    this._localization = localization

    const replication = startReplication({
      peerId: libp2p.peerId,
      privateKey: this.identity.privateKey,
      replicationFactor: config.replicationFactor,
      storageSites: () => this.roles.storageSites(libp2p.peerId.toString()),
      dataPlane,
      localization,
      replicate: libp2p.services.replicate,
      ping: async peer => await libp2p.services.ping.ping(peer),
      events: libp2p,
      controlHandlers: this.controlHandlers,
      log: this.logger.forComponent('dm2:replicas'),
      ...this.options.replication
    })
    this._replicas = replication.manager
    this.closers.push(async () => { await replication.stop(); this._replicas = undefined })

    const control = await startNodeControl({
      dataDir: config.dataDir,
      libp2p,
      localization,
      dataPlane,
      similarity,
      status: () => this.statusReport(),
      handlers: this.controlHandlers,
      logger: this.logger
    })
    this.closers.push(async () => { await control.stop() })
    similarity.start()

    this.log('started %p on %s', libp2p.peerId, libp2p.getMultiaddrs().map(a => a.toString()).join(', '))
  }

  /** Announces a registered series in the DHT (its master and version; the content id follows once prepared). */
  announce (lfn: string): void { this.registrations.add(lfn) }

  private announceDeps (): AnnounceDeps | undefined {
    const catalog = this.options.catalog ?? (this._dicom === undefined ? undefined : registryCatalog(this._dicom))
    if (catalog === undefined || this._dataPlane === undefined) return undefined
    return { catalog, dataPlane: this._dataPlane, publish: async (input) => await this.localization.publishLfn(input), log: this.log }
  }

  /** What `dm2 status` shows: identity, addresses, peers, admission, cache use, image queue. */
  statusReport (): Record<string, unknown> {
    return nodeStatus({ name: this.config.name, members: this.config.members.length, libp2p: this.libp2p, dataPlane: this.dataPlane, admission: this.admission, ...(this._fills === undefined ? {} : { sliceFills: this._fills.stats() }) })
  }

  private async closeAll (): Promise<void> {
    const errors: unknown[] = []
    for (const close of this.closers.reverse()) {
      try {
        await close()
      } catch (err) {
        errors.push(err)
      }
    }
    this.closers = []
    if (errors.length > 0) this.log.error('errors while stopping: %s', errors.map(e => (e as Error).message).join('; '))
  }

  /** Closes network, then database. Safe to call at any time, any number of times. */
  async stop (): Promise<void> {
    this.stopping ??= this.runStop().finally(() => { this.stopping = undefined })
    await this.stopping
  }

  private async runStop (): Promise<void> {
    if (this.starting !== undefined) {
      this.abortStart?.abort()
      // A failed or aborted start has already closed what it opened.
      await this.starting.catch(() => {})
    }
    if (this.state !== 'started') return
    this.state = 'stopping'
    // Registrations not yet announced stay registered; the next start announces every one.
    this.registrations.clear()
    await this.closeAll()
    this.state = 'stopped'
    this.log('stopped')
  }
}

/** Builds a hospital node from a validated config. Call `start()` to bring it up. */
export function createHospitalNode (config: HospitalConfig, options: HospitalNodeOptions = {}): HospitalNode {
  return new HospitalNode(config, options)
}
