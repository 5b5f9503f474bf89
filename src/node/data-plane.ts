/**
 * The data plane of a hospital node: access control with its audit log, the
 * caches, the data keys, and the image pipeline, plus the libp2p services
 * that serve them (`/dm2/image`, `/dm2/chunks`, `/dm2/keys`). Every handler
 * goes through the one access-control module before doing any work.
 */
import { hkdfSync } from 'node:crypto'
import { join } from 'node:path'
import type { ComponentLogger, PeerId, PrivateKey } from '@libp2p/interface'
import { AuditLog } from '../audit/index.js'
import { NodeCache, type NodeCacheLimits } from '../cache/index.js'
import { ContentIndex, imageChunkStore } from '../imaging/chunk-store.js'
import { DataKeys } from '../imaging/keystore.js'
import { CopyWriter } from './copy-writer.js'
import { HotImages } from '../imaging/hot-images.js'
import { ImagePipeline, type PublishInput } from '../imaging/prepare.js'
import { imageId, parseImageId } from '../imaging/dicom-bundle.js'
import { createDeidentifier } from '../privacy/deid/index.js'
import type { SeriesCatalog, SeriesInfo, SliceProvider } from '../imaging/types.js'
import { libp2pSigner } from '../privacy/payload/index.js'
import { chunkTransfer } from '../protocols/chunks/index.js'
import type { ChunkAccessRequest, AccessDecision } from '../protocols/chunks/types.js'
import { imageService } from '../protocols/image/index.js'
import { keyRelease, type KeyReleaseInit } from '../protocols/keys/index.js'
import { revocationPush } from '../protocols/revocations/index.js'
import { metadataQuery, type QueryRecord, type RecordScan } from '../protocols/query/index.js'
import { ReplicaStore, replicaResource, replicateService, ticketAuthorizer, unionChunkStore, type ReplicateInit } from '../replicas/index.js'
import { LRUCache } from 'lru-cache'
import { DEFAULT_MAX_CONCURRENT_QUERIES, DEFAULT_MAX_QUEUED_QUERIES, TxEngine } from '../tx/index.js'
import {
  accessControl, decodeAuthorization, hashArguments, peekRecordId, RevocationStore, SAC_RECORD,
  type AccessControl, type AccessRequest, type Decision, type ResourceDescriptor
} from '../sac/index.js'
import type { NodeDatabase } from './database.js'
import type { DataPlaneServices } from './libp2p.js'

export interface DataPlaneInit {
  db: NodeDatabase
  dataDir: string
  privateKey: PrivateKey
  peerId: PeerId
  logger: ComponentLogger
  catalog: SeriesCatalog
  slices: SliceProvider
  /** Announces a prepared version in the DHT (resolved once libp2p runs). */
  publish: (input: PublishInput) => Promise<void>
  cacheLimits?: NodeCacheLimits
  /** This site's series for the metadata query service. */
  records?: (scan: RecordScan) => AsyncIterable<QueryRecord>
  /** This hospital's name: the PACS pool's service key. */
  site: string
  /** Admission control of image preparation: running, then queued, beyond which BUSY. */
  maxConcurrentPrepares?: number
  maxQueuedPrepares?: number
  /** The LFN record (master-signed descriptive metadata) for judging reads of replicas. */
  resolveLfn?: (lfn: string) => Promise<{ meta: Record<string, string | number> }>
  /** Roster roles: who may hold replicas. */
  members: { isMember: (peer: string) => boolean, isStorage: (peer: string) => boolean }
  /** The chunk protocol's fetch and the DHT's provide, bound once libp2p runs (replication). */
  fetchChunks: ReplicateInit['fetch']
  provide: ReplicateInit['provide']
  /** Looks a certificate's revocation up in the DHT (resolved once libp2p runs). */
  findRevocation?: (certificateId: string) => Promise<Uint8Array | undefined>
}

/** How long a certificate, once looked up in the DHT, is not looked up again. */
const REVOCATION_LOOKUP_TTL_MS = 5 * 60_000
const REVOCATION_LOOKUP_TIMEOUT_MS = 2_000

/** The site's de-identification secret: HKDF-SHA256 of its key seed (RFC 5869), so it needs no file of its own. */
function deidSecret (privateKey: PrivateKey): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', privateKey.raw.subarray(0, 32), new Uint8Array(0), 'dm2 deid uid secret v1', 32))
}

/** Args every chunk request is bound to. */
export function chunkArguments (contentIdHex: string): Uint8Array {
  return hashArguments({ contentId: contentIdHex })
}

export class DataPlane {
  readonly access: AccessControl
  readonly audit: AuditLog
  readonly cache: NodeCache
  /** Copies of images fetched from other hospitals, written in the background (see getImage). */
  readonly copyWriter: CopyWriter
  readonly keys: DataKeys
  readonly index: ContentIndex
  /** Images answered early and still committing, served from memory (src/imaging/hot-images.ts). */
  readonly hot = new HotImages()
  readonly pipeline: ImagePipeline
  /** Transactions of the data plane, journaled in level; unfinished ones are rolled back at open. */
  readonly engine: TxEngine
  /** Revoked certificates, durable; checked on every access decision. */
  revocations?: RevocationStore
  /** Read-only replicas of other sites' images (ciphertext only). */
  replicas?: ReplicaStore
  /** Public key of this site acting for its patients: the root of certificates for its data. */
  readonly custodian: Uint8Array
  private readonly init: DataPlaneInit
  private readonly lookedUp = new LRUCache<string, true>({ max: 10_000, ttl: REVOCATION_LOOKUP_TTL_MS })

  constructor (init: DataPlaneInit) {
    this.init = init
    const { db, logger } = init
    this.custodian = init.privateKey.publicKey.raw
    this.audit = new AuditLog({
      store: db.sublevel<string, Uint8Array>('audit', { valueEncoding: 'view' }),
      signer: { sign: async m => await init.privateKey.sign(m), verify: async (m, s) => await init.privateKey.publicKey.verify(m, s) }
    })
    this.access = accessControl({
      serverPeer: init.peerId.toString(),
      // Read at each check: the store is opened in open().
      revocations: { isRevoked: (id: string) => this.revocations?.isRevoked(id) ?? false },
      audit: { record: async (d: Decision) => { await this.record(d) } },
      logger: logger.forComponent('dm2:access')
    })
    this.cache = new NodeCache({
      directory: join(init.dataDir, 'cache'),
      level: db.sublevel<string, Uint8Array>('cache', { valueEncoding: 'view' }),
      logger,
      ...(init.cacheLimits === undefined ? {} : { limits: init.cacheLimits })
    })
    this.copyWriter = new CopyWriter(this.cache.copies, logger.forComponent('dm2:get-image'))
    this.keys = new DataKeys(db.sublevel<string, Uint8Array>('data-keys', { valueEncoding: 'view' }))
    this.index = new ContentIndex(db.sublevel<string, Uint8Array>('content-index', { valueEncoding: 'view' }))
    this.engine = new TxEngine({
      db: db.sublevel<string, string>('tx', { valueEncoding: 'utf8' }),
      logger,
      maxConcurrentQueries: init.maxConcurrentPrepares ?? DEFAULT_MAX_CONCURRENT_QUERIES,
      maxQueuedQueries: init.maxQueuedPrepares ?? DEFAULT_MAX_QUEUED_QUERIES
    })
    this.pipeline = new ImagePipeline({
      engine: this.engine,
      site: init.site,
      catalog: init.catalog,
      slices: init.slices,
      images: this.cache.images,
      keys: this.keys,
      index: this.index,
      signer: libp2pSigner(init.privateKey),
      master: init.peerId.toString(),
      publish: init.publish,
      scratch: join(init.dataDir, 'scratch'),
      log: logger.forComponent('dm2:imaging'),
      // The DICOM form's UIDs are remapped under a secret derived from the site key (stable, never shipped).
      deidentifier: createDeidentifier({ secret: deidSecret(init.privateKey) }),
      hot: this.hot
    })
  }

  async open (): Promise<void> {
    this.revocations = await RevocationStore.open({
      db: this.init.db.sublevel<string, Uint8Array>('revocations', { valueEncoding: 'view' }),
      logger: this.init.logger.forComponent('dm2:revocations')
    })
    await this.revocations.prune()
    this.replicas = await ReplicaStore.open(join(this.init.dataDir, 'replicas'), this.init.db.sublevel<string, Uint8Array>('replicas', { valueEncoding: 'view' }))
    await this.cache.open()
    // After the cache is open and the pipeline has registered its compensations:
    // whatever a crash left half-done is undone now.
    await this.engine.recover()
  }

  async close (): Promise<void> {
    await this.pipeline.close()
    await this.engine.close()
    await this.copyWriter.settled()
    await this.cache.close()
  }

  /**
   * Access control as every handler uses it: first, any certificate of the
   * chain not seen lately is looked up in the DHT's revocations (pushes reach
   * connected peers; the DHT also reaches a node that was away), then the check.
   */
  readonly checker = {
    check: async (request: AccessRequest): Promise<Decision> => {
      await this.refreshRevocations(request.chain)
      return await this.access.check(request)
    }
  }

  private async refreshRevocations (chain: readonly Uint8Array[]): Promise<void> {
    const find = this.init.findRevocation
    const store = this.revocations
    if (find === undefined || store === undefined || !Array.isArray(chain)) return
    const ids = chain.slice(0, 8).map(bytes => bytes instanceof Uint8Array ? peekRecordId(bytes, SAC_RECORD) : undefined)
      .filter((id): id is string => id !== undefined && !this.lookedUp.has(id) && !store.isRevoked(id))
    await Promise.all(ids.map(async id => {
      this.lookedUp.set(id, true)
      const notice = await Promise.race([
        find(id).catch(() => undefined),
        new Promise<undefined>(resolve => setTimeout(() => { resolve(undefined) }, REVOCATION_LOOKUP_TIMEOUT_MS).unref())
      ])
      if (notice !== undefined) await store.add(notice).catch(() => false)
    }))
  }

  /** An access decision as an audit entry: ids and codes, never patient data. */
  private async record (d: Decision): Promise<void> {
    await this.audit.append({
      decision: d.allow ? 'allow' : 'deny',
      reason: d.allow ? 'OK' : d.reason,
      command: d.command,
      resource: d.resource.lfn ?? d.resource.contentId,
      ...(d.requester === undefined ? {} : { requester: d.requester }),
      chain: d.chainIds,
      remotePeer: d.remotePeer,
      ...(d.purpose === undefined ? {} : { purpose: d.purpose })
    })
  }

  /** The prepared current version of every series this site masters (what replication keeps copies of). */
  async mastered (): Promise<Array<{ lfn: string, version: number, contentId: Uint8Array, manifest: Uint8Array }>> {
    const latest = new Map<string, number>()
    for await (const key of this.init.db.sublevel<string, Uint8Array>('data-keys', { valueEncoding: 'view' }).keys()) {
      const at = key.lastIndexOf('@')
      const lfn = key.slice(0, at)
      const version = Number(key.slice(at + 1))
      if (version > (latest.get(lfn) ?? -1)) latest.set(lfn, version)
    }
    const out = []
    for (const [lfn, version] of latest) {
      const info = await this.init.catalog.describe(lfn)
      if (info?.version !== version) continue
      const lease = await this.cache.images.get(lfn, version)
      if (lease === undefined) continue
      try {
        const key = await this.keys.get(lfn, version)
        if (key !== undefined) out.push({ lfn, version, contentId: new Uint8Array(Buffer.from(key.contentId, 'hex')), manifest: lease.manifest })
      } finally {
        lease.release()
      }
    }
    return out
  }

  /** The descriptor of a series' version from its descriptive fields (query scans). */
  async descriptor (lfn: string, version: number, attrs: { modality?: string, bodyPart?: string, date?: string }): Promise<ResourceDescriptor> {
    const stored = await this.keys.get(lfn, version)
    return { owner: this.custodian, custodian: this.custodian, contentId: stored?.contentId ?? `pending:${lfn}@${version}`, lfn, ...attrs }
  }

  /** What access control knows about an LFN's current version at this (master) site. */
  resourceOf (info: SeriesInfo, contentIdHex: string): ResourceDescriptor {
    const r: ResourceDescriptor = { owner: this.custodian, custodian: this.custodian, contentId: contentIdHex, lfn: info.lfn }
    if (info.modality !== undefined) r.modality = info.modality
    if (info.bodyPart !== undefined) r.bodyPart = info.bodyPart
    if (info.date !== undefined) r.date = info.date
    if (info.studyType !== undefined) r.studyType = info.studyType
    return r
  }

  private async currentResource (lfn: string): Promise<ResourceDescriptor | undefined> {
    const info = await this.init.catalog.describe(lfn)
    if (info === undefined) return undefined
    const stored = await this.keys.get(lfn, info.version)
    // Before the first preparation there is no content id yet; file-bound certificates cannot match it.
    return this.resourceOf(info, stored?.contentId ?? `pending:${lfn}@${info.version}`)
  }

  /** Site-to-site reads for replication: a ticket signed by the content's master. */
  private readonly tickets = ticketAuthorizer({
    isStorage: peer => this.init.members.isStorage(peer),
    masterOf: async cid => (await this.contentEntry(Buffer.from(cid).toString('hex'))) !== undefined
      ? this.init.peerId.toString()
      : this.replicas?.entryOf(cid)?.master
  })

  /** The `lfn@version` a content id of this master names: committed, or answered early and committing. */
  private async contentEntry (contentIdHex: string): Promise<{ lfn: string, version: number } | undefined> {
    return this.hot.entry(contentIdHex) ?? await this.index.get(contentIdHex)
  }

  private readonly authorizeChunks = async (req: ChunkAccessRequest): Promise<AccessDecision> => {
    const ticket = await this.tickets(req)
    if (ticket !== undefined) return ticket.allow ? { allow: true } : { allow: false, reason: ticket.reason }
    const replica = this.replicas?.entryOf(req.contentId)
    if (replica !== undefined) return await this.checkChunks(req, await this.replicaDescriptor(replica))
    let auth
    try {
      auth = decodeAuthorization(req.auth)
    } catch {
      return { allow: false, reason: 'MALFORMED' }
    }
    const hex = Buffer.from(req.contentId).toString('hex')
    const entry = await this.contentEntry(hex)
    const series = entry === undefined ? undefined : parseImageId(entry.lfn).lfn
    const info = series === undefined ? undefined : await this.init.catalog.describe(series)
    if (entry === undefined || info === undefined) return { allow: false, reason: 'RESOURCE_MISMATCH' }
    return await this.checkChunks(req, this.resourceOf(info, hex), auth)
  }

  /**
   * A replica holder knows a series only by what its master published: the
   * LFN record's modality and body part (never dates or identifiers), so
   * certificates by modality/region work at replicas, date-bounded ones do not.
   */
  private async replicaDescriptor (entry: Parameters<typeof replicaResource>[0]): Promise<ResourceDescriptor> {
    const resource = replicaResource(entry)
    const record = await this.init.resolveLfn?.(entry.lfn).catch(() => undefined)
    const { modality, bodyPart } = record?.meta ?? {}
    if (typeof modality === 'string') resource.modality = modality
    if (typeof bodyPart === 'string') resource.bodyPart = bodyPart
    return resource
  }

  private async checkChunks (req: ChunkAccessRequest, resource: ResourceDescriptor, decoded?: ReturnType<typeof decodeAuthorization>): Promise<AccessDecision> {
    let auth = decoded
    if (auth === undefined) {
      try {
        auth = decodeAuthorization(req.auth)
      } catch {
        return { allow: false, reason: 'MALFORMED' }
      }
    }
    const hex = Buffer.from(req.contentId).toString('hex')
    const decision = await this.checker.check({
      invocation: auth.invocation,
      chain: auth.chain,
      memberships: auth.memberships,
      command: 'chunks/get',
      args: chunkArguments(hex),
      resource,
      ability: 'image/read',
      remotePeer: req.remotePeer.toString()
    })
    return decision.allow ? { allow: true } : { allow: false, reason: decision.reason }
  }

  /** The libp2p services of the data plane. */
  services (): DataPlaneServices {
    const store = this.revocations
    if (store === undefined) throw new Error('open() the data plane before building its services')
    const records = this.init.records ?? async function * () {}
    /** Key release, over its own protocol and with an image answer. */
    const release: KeyReleaseInit = {
      access: this.checker,
      keys: {
        get: async (lfn, version) => {
          // `lfn` may name the DICOM form of a series: access is judged on the series.
          const stored = await this.keys.get(lfn, version)
          const info = stored === undefined ? undefined : await this.init.catalog.describe(parseImageId(lfn).lfn)
          return stored === undefined || info === undefined ? undefined : { dataKey: stored.dataKey, resource: this.resourceOf(info, stored.contentId) }
        },
        dataKey: async (lfn, version) => (await this.keys.get(lfn, version))?.dataKey
      }
    }
    /** This master's own images (committed, or answered early and committing). */
    const images = imageChunkStore(this.cache.images, this.index, this.hot)
    return {
      query: metadataQuery({ access: this.checker, custodian: this.custodian, cache: this.access.cache, records }),
      revocations: revocationPush({ store }),
      chunks: chunkTransfer({ store: unionChunkStore([images, this.replicas as ReplicaStore]), authorize: this.authorizeChunks }),
      replicate: replicateService({
        store: this.replicas as ReplicaStore,
        isMember: peer => this.init.members.isMember(peer),
        isStorage: peer => this.init.members.isStorage(peer),
        fetch: async options => await this.init.fetchChunks(options),
        provide: async (cid, options) => { await this.init.provide(cid, options) }
      }),
      keys: keyRelease(release),
      image: imageService({
        access: this.checker,
        keys: release,
        chunks: images,
        resourceOf: async lfn => await this.currentResource(lfn),
        prepare: async (lfn, options) => {
          // The requester fetches over the network: answered as soon as the image can be served.
          const p = await this.pipeline.prepare(lfn, {
            format: options.format,
            early: true,
            ...(options.signal === undefined ? {} : { signal: options.signal }),
            ...(options.onDataKey === undefined ? {} : { onDataKey: (key: Uint8Array, version: number) => { options.onDataKey?.(key, version, imageId(lfn, options.format)) } }),
            ...(options.onSealed === undefined ? {} : { onSealed: options.onSealed })
          })
          return { fileId: imageId(lfn, options.format), version: p.version, manifest: p.manifest }
        }
      })
    }
  }
}
