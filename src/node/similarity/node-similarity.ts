/**
 * Content-based similarity at a hospital node: the feature index and its
 * indexer, the diagnoses this site keeps as master, the `/dm2/similarity`
 * and `/dm2/annotate` services wired to the data plane's access control
 * (every decision audited), and the `similarity.*` control commands.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { ControlHandler } from '../../control/index.js'
import type { SeriesCatalog, SeriesInfo, SliceProvider } from '../../imaging/types.js'
import { diagnosisAnnotation, similarityRanking, type SimilarityServed } from '../../protocols/similarity/index.js'
import { statusError } from '../../protocols/status.js'
import {
  decodeAuthorization, hashArguments, type AccessRequest, type Decision, type ResourceDescriptor
} from '../../sac/index.js'
import { DiagnosisStore, type ExtractOptions } from '../../similarity/index.js'
import type { NodeDatabase } from '../database.js'
import type { SimilarityServices } from '../libp2p.js'
import {
  DEFAULT_SITE_RANK_BATCH, DIAGNOSES_SUBLEVEL, FEATURES_SUBLEVEL, MAX_INDEX_REQUEST_LFNS, QUERY_FEATURES_COMMAND
} from './constants.js'
import { FeaturesUnavailableError, SimilarityControlError } from './errors.js'
import { FeatureIndex, type FeatureIndexStats } from './feature-index.js'
import { FeatureIndexer, type IndexOutcome } from './indexer.js'

/** Options of a node's similarity index (HospitalNodeOptions.similarity). */
export interface SimilarityOptions {
  /** Bytes of decoded features kept in memory (default 1 GiB). */
  cacheBytes?: number
  /** Candidates ranked together per query (default 2048). */
  rankBatch?: number
  /** Feature extraction options (thumbnail size, histogram bins). */
  extract?: ExtractOptions
  /** Called after each similarity query this site served or denied. */
  onServed?: (served: SimilarityServed) => void
  /** Called each time a query reads a series' features (tests: proves what was never read). */
  onFeaturesRead?: (lfn: string) => void
  /** Skip the start-up catch-up and warm-up (benchmarks filling the index themselves). */
  background?: boolean
  /** Quiet time (ms) the node must have had before background indexing starts (default 1 s). */
  quietMs?: number
}

/** What the node lends the similarity module. */
export interface NodeSimilarityInit {
  db: NodeDatabase
  /** The data plane's audited access control, its custodian key, keys and descriptors. */
  dataPlane: {
    checker: { check: (request: AccessRequest) => Promise<Decision> }
    custodian: Uint8Array
    keys: { get: (lfn: string, version: number) => Promise<{ contentId: string } | undefined> }
    resourceOf: (info: SeriesInfo, contentIdHex: string) => ResourceDescriptor
    /** The image queue: background indexing waits while it is not empty (absent: never waits). */
    pipeline?: { stats: () => { running: number, queued: number } }
  }
  catalog: SeriesCatalog
  slices: SliceProvider
  /** True when the series' slices are all on disk (a virtual series is indexed once prepared). */
  slicesOnDisk?: (lfn: string) => Promise<boolean>
  /** The series registered here (start-up catch-up). */
  registered?: () => Promise<string[]>
  /** This node's peer id (the remote peer of the local user's own requests). */
  peerId: string
  logger: ComponentLogger
  options?: SimilarityOptions
  /** True while this node serves image data to peers (chunks, keys, preparations): indexing waits. */
  serving?: () => boolean
}

/** Served-query counters since start (`dm2 features status`). */
export interface ServedTotals {
  queries: number
  denied: number
  candidates: number
  uncovered: number
  ranked: number
}

/** The arguments an invocation for QUERY_FEATURES_COMMAND must be bound to. */
export function queryFeaturesArguments (lfn: string): Uint8Array {
  return hashArguments({ lfn })
}

export class NodeSimilarity {
  readonly index: FeatureIndex
  readonly indexer: FeatureIndexer
  readonly diagnoses: DiagnosisStore
  readonly served: ServedTotals = { queries: 0, denied: 0, candidates: 0, uncovered: 0, ranked: 0 }
  private readonly init: NodeSimilarityInit
  private readonly log: Logger
  private readonly controller = new AbortController()
  private background?: Promise<unknown>

  private constructor (init: NodeSimilarityInit) {
    this.init = init
    this.log = init.logger.forComponent('dm2:similarity-index')
    const { db, dataPlane, options } = init
    this.index = new FeatureIndex({
      db: db.sublevel<string, Uint8Array>(FEATURES_SUBLEVEL, { valueEncoding: 'view' }),
      custodian: dataPlane.custodian,
      contentIdOf: async (lfn, version) => (await dataPlane.keys.get(lfn, version))?.contentId,
      log: this.log,
      ...(options?.cacheBytes === undefined ? {} : { cacheBytes: options.cacheBytes }),
      ...(options?.onFeaturesRead === undefined ? {} : { onRead: options.onFeaturesRead })
    })
    this.indexer = new FeatureIndexer({
      index: this.index,
      catalog: init.catalog,
      slices: init.slices,
      log: this.log,
      busy: () => {
        const s = init.dataPlane.pipeline?.stats()
        return (s !== undefined && s.running + s.queued > 0) || (init.serving?.() ?? false)
      },
      ...(options?.quietMs === undefined ? {} : { quietMs: options.quietMs }),
      ...(init.slicesOnDisk === undefined ? {} : { slicesOnDisk: init.slicesOnDisk }),
      ...(init.registered === undefined ? {} : { registered: init.registered }),
      ...(options?.extract === undefined ? {} : { extract: options.extract })
    })
    this.diagnoses = new DiagnosisStore({ db: db.sublevel<string, Uint8Array>(DIAGNOSES_SUBLEVEL, { valueEncoding: 'view' }) })
  }

  /** Opens the index (entries, then the latest diagnosis of every annotated series). */
  static async open (init: NodeSimilarityInit): Promise<NodeSimilarity> {
    const s = new NodeSimilarity(init)
    await s.index.open()
    const lfns = new Set<string>()
    for await (const key of init.db.sublevel<string, Uint8Array>(DIAGNOSES_SUBLEVEL, { valueEncoding: 'view' }).keys()) lfns.add(key.slice(0, key.indexOf('\x00')))
    for (const lfn of lfns) s.index.setDiagnosis(lfn, (await s.diagnoses.latest(lfn))?.text)
    return s
  }

  /** Background start-up work: catch-up of registered series, then warming the cache. */
  start (): void {
    if (this.init.options?.background === false) return
    this.background = (async () => {
      const outcomes = await this.indexer.reconcile()
      const indexed = outcomes.filter(o => o.status === 'indexed').length
      if (indexed > 0) this.log('catch-up: %d series indexed', indexed)
      await this.index.warm(this.controller.signal)
    })().catch(err => { this.log.error('similarity start-up work failed: %s', (err as Error).name) })
  }

  /** The libp2p services, through the data plane's (audited) access control. */
  services (): SimilarityServices {
    const { dataPlane, options } = this.init
    return {
      similarity: similarityRanking({
        access: dataPlane.checker,
        custodian: dataPlane.custodian,
        candidates: () => this.index.candidates(),
        limits: { batch: options?.rankBatch ?? DEFAULT_SITE_RANK_BATCH },
        onServed: s => { this.count(s) }
      }),
      annotate: diagnosisAnnotation({
        access: dataPlane.checker,
        resource: async lfn => await this.resource(lfn),
        diagnoses: {
          add: async (record, decision) => {
            const d = await this.diagnoses.add(record, decision)
            this.index.setDiagnosis(d.lfn, (await this.diagnoses.latest(d.lfn))?.text)
            return d
          }
        }
      })
    }
  }

  private count (s: SimilarityServed): void {
    const t = this.served
    t.queries++
    if (!s.allow) t.denied++
    t.candidates += s.candidates
    t.uncovered += s.uncovered
    t.ranked += s.ranked
    this.init.options?.onServed?.(s)
  }

  /** The current descriptor of a series this site masters, or undefined. */
  async resource (lfn: string): Promise<ResourceDescriptor | undefined> {
    const info = await this.init.catalog.describe(lfn)
    if (info === undefined) return undefined
    const stored = await this.init.dataPlane.keys.get(lfn, info.version)
    return this.init.dataPlane.resourceOf(info, stored?.contentId ?? `pending:${lfn}@${info.version}`)
  }

  /** The registry registered (or re-registered) a series. */
  registered (lfn: string): void {
    this.indexer.enqueue(lfn).catch(() => {})
  }

  /** The image pipeline prepared a version: its content id, and its features if still missing (virtual series). */
  prepared (lfn: string, version: number, contentId: Uint8Array): void {
    this.index.setContentId(lfn, version, Buffer.from(contentId).toString('hex'))
    if (this.index.version(lfn) !== version) this.indexer.enqueue(lfn).catch(() => {})
  }

  /**
   * The encoded features of one of this site's series, to use as a query:
   * checked (ability `similarity` on that series, audited) for the local
   * user's authorization; computed now if missing (slices from the PACS).
   * Throws DeniedError, NotFoundError or FeaturesUnavailableError.
   */
  async queryFeatures (lfn: string, auth: Uint8Array): Promise<Uint8Array> {
    const resource = await this.resource(lfn)
    if (resource === undefined) throw statusError('NOT_FOUND')
    let a
    try {
      a = decodeAuthorization(auth)
    } catch {
      throw statusError('INVALID')
    }
    const decision = await this.init.dataPlane.checker.check({
      invocation: a.invocation,
      chain: a.chain,
      memberships: a.memberships,
      command: QUERY_FEATURES_COMMAND,
      args: queryFeaturesArguments(lfn),
      resource,
      ability: 'similarity',
      remotePeer: this.init.peerId
    })
    if (!decision.allow) throw statusError('DENIED', decision.reason)
    const outcome = await this.indexer.enqueue(lfn, { fetch: true })
    const bytes = outcome.status === 'indexed' || outcome.status === 'current' ? await this.index.encoded(lfn) : undefined
    if (bytes === undefined) throw new FeaturesUnavailableError(lfn, outcome.reason ?? outcome.status)
    return bytes
  }

  stats (): FeatureIndexStats & { served: ServedTotals } {
    return { ...this.index.stats(), served: { ...this.served } }
  }

  /** `similarity.index` (compute features now: given LFNs, or every registered series) and `similarity.status`. */
  controlHandlers (): Record<string, ControlHandler> {
    return {
      'similarity.index': async (params): Promise<{ outcomes: IndexOutcome[] }> => {
        const lfns = (params as { lfns?: unknown } | null)?.lfns
        if (lfns === undefined || (Array.isArray(lfns) && lfns.length === 0)) return { outcomes: await this.indexer.reconcile() }
        if (!Array.isArray(lfns) || lfns.length > MAX_INDEX_REQUEST_LFNS || !lfns.every(l => typeof l === 'string' && l.length > 0 && l.length <= 256)) {
          throw new SimilarityControlError(`lfns must be a list of at most ${MAX_INDEX_REQUEST_LFNS} LFNs`)
        }
        return { outcomes: await Promise.all((lfns as string[]).map(async lfn => await this.indexer.enqueue(lfn, { fetch: true }))) }
      },
      'similarity.status': async () => this.stats()
    }
  }

  /** Stops background work and indexing (before the database closes). */
  async close (): Promise<void> {
    this.controller.abort()
    await this.indexer.close()
    await this.background
  }
}
