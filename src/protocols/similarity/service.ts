/**
 * The `/dm2/similarity/1.0.0` service of one site: serves ranking requests
 * against this site's index and asks other sites (one site, or the whole
 * federation through `rankFederation`).
 */
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import {
  decodeAuthorization, type AccessRequest, type Authorization, type Decision, type ResourceDescriptor
} from '../../sac/index.js'
import { decodeFeatures, Ranker, type Features } from '../../similarity/index.js'
import { rpcCall, rpcServer, type RpcLimits, type RpcReply } from '../rpc.js'
import { ProtocolError, statusError } from '../status.js'
import {
  DEFAULT_MAX_CONCURRENT_QUERIES, DEFAULT_RANK_BATCH, MAX_STREAMS, SIMILARITY_COMMAND, SIMILARITY_INDEX_CONTENT_ID,
  SIMILARITY_LIMITS, SIMILARITY_PROTOCOL
} from './constants.js'
import { chainCoverage, type Coverage } from './coverage.js'
import { rankFederation, type FederationQuery, type FederationResult } from './federation.js'
import { firstCovered, rankSite, type Candidate, type SiteCounts } from './site.js'
import { checkQuery, encodeHits, parseHits, parseRequest, similarityArguments, type SimilarityQuery, type SimilarityRequest, type SiteHit } from './wire.js'

/** What the site's log and hook learn of each query: counts and ids, no features, no patient data. */
export interface SimilarityServed extends SiteCounts {
  remotePeer: string
  /** The access decision (also in the audit log through the access-control module). */
  allow: boolean
  reason?: string
  invocationId?: string
  requester?: string
  /** The resource the check was made against: the first covered series' LFN, or the index pseudo-resource. */
  checkedResource: string
}

export interface SimilarityRankingInit {
  access: { check: (request: AccessRequest) => Promise<Decision> }
  /** This site's indexed series, walked once per query (twice at most: the first covered one, then all). */
  candidates: () => AsyncIterable<Candidate>
  /**
   * This site's custodian key: the owner of the index pseudo-resource a query
   * is checked against when no series of the index fits the chain.
   */
  custodian: Uint8Array
  limits?: Partial<RpcLimits> & { maxConcurrent?: number, batch?: number }
  /** Called after each authorized or denied query (e.g. metrics, tests). */
  onServed?: (served: SimilarityServed) => void
}

export interface SimilarityRankingComponents {
  /** This node: a query to itself is served in-process (a node cannot dial itself). */
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface SimilarityRanking {
  /** Asks one site; throws the typed status errors (DeniedError, BusyError, …) or ProtocolError. */
  query: (peer: PeerId, request: SimilarityRequest, options?: AbortOptions) => Promise<SiteHit[]>
  /** Asks every site in parallel and merges the top K; see federation.ts. */
  rankFederation: (query: FederationQuery) => Promise<FederationResult>
}

class SimilarityRankingService implements SimilarityRanking, Startable {
  private readonly components: SimilarityRankingComponents
  private readonly init: SimilarityRankingInit
  private readonly limits: RpcLimits
  private readonly log: Logger
  private readonly ranker = new Ranker()
  private active = 0

  constructor (components: SimilarityRankingComponents, init: SimilarityRankingInit) {
    this.components = components
    this.init = init
    this.limits = {
      maxRequestBytes: init.limits?.maxRequestBytes ?? SIMILARITY_LIMITS.maxRequestBytes,
      maxResponseBytes: init.limits?.maxResponseBytes ?? SIMILARITY_LIMITS.maxResponseBytes,
      timeoutMs: init.limits?.timeoutMs ?? SIMILARITY_LIMITS.timeoutMs
    }
    this.log = components.logger.forComponent('dm2:similarity')
  }

  private readonly serve = async (m: Record<string, unknown>, connection: { remotePeer: PeerId }, signal: AbortSignal): Promise<RpcReply> => {
    const req = parseRequest(m)
    let auth: Authorization
    let query: Features
    try {
      auth = decodeAuthorization(req.auth)
      query = decodeFeatures(req.features)
    } catch {
      return { status: 'INVALID' }
    }
    if (this.active >= (this.init.limits?.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_QUERIES)) return { status: 'BUSY' }
    this.active++
    try {
      return await this.authorizedRanking(req, auth, query, connection.remotePeer.toString(), signal)
    } finally {
      this.active--
    }
  }

  private async authorizedRanking (req: SimilarityRequest, auth: Authorization, query: Features, remotePeer: string, signal: AbortSignal): Promise<RpcReply> {
    // The links' signatures only, to find what to check against; the check verifies the chain.
    let coverage: Coverage | undefined
    try {
      coverage = chainCoverage(auth.chain)
    } catch {}
    const first = coverage === undefined
      ? undefined
      : await firstCovered(this.init.candidates(), coverage, query.keys, req.requireDiagnosis, signal)
    const resource: ResourceDescriptor = first?.resource ?? this.indexResource(query)
    const decision = await this.init.access.check({
      invocation: auth.invocation,
      chain: auth.chain,
      memberships: auth.memberships,
      command: SIMILARITY_COMMAND,
      args: similarityArguments(req),
      resource,
      ability: 'similarity',
      remotePeer
    })
    const served: SimilarityServed = {
      remotePeer,
      allow: decision.allow,
      checkedResource: resource.lfn ?? resource.contentId,
      candidates: 0,
      uncovered: 0,
      incomparable: 0,
      invalid: 0,
      ranked: 0,
      returned: 0
    }
    if (decision.invocationId !== undefined) served.invocationId = decision.invocationId
    if (decision.requester !== undefined) served.requester = decision.requester
    if (!decision.allow || coverage === undefined || coverage.ids.join() !== decision.chainIds.join()) {
      served.allow = false
      served.reason = decision.allow ? 'INTERNAL_ERROR' : decision.reason
      this.report(served)
      return { status: 'DENIED', reason: served.reason }
    }
    const { hits, counts } = await rankSite({
      query,
      measure: req.measure,
      topK: req.topK,
      requireDiagnosis: req.requireDiagnosis,
      coverage,
      candidates: this.init.candidates(),
      ranker: this.ranker,
      batch: this.init.limits?.batch ?? DEFAULT_RANK_BATCH,
      signal
    })
    this.report({ ...served, ...counts })
    return { status: 'OK', body: { hits: encodeHits(hits) } }
  }

  /** "This site's index of series like the query": what a chain is checked against when no series fits it. */
  private indexResource (query: Features): ResourceDescriptor {
    const r: ResourceDescriptor = { owner: this.init.custodian, custodian: this.init.custodian, contentId: SIMILARITY_INDEX_CONTENT_ID, modality: query.keys.modality }
    if (query.keys.bodyPart !== '') r.bodyPart = query.keys.bodyPart
    return r
  }

  private report (s: SimilarityServed): void {
    if (s.allow) {
      this.log('similarity for %s via %s: %d series, %d uncovered (not read), %d incomparable, %d invalid, %d ranked, %d returned',
        s.requester, s.remotePeer, s.candidates, s.uncovered, s.incomparable, s.invalid, s.ranked, s.returned)
    } else {
      this.log('similarity denied (%s) for %s via %s', s.reason, s.requester, s.remotePeer)
    }
    try {
      this.init.onServed?.(s)
    } catch {}
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(SIMILARITY_PROTOCOL, rpcServer(this.limits, this.serve, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(SIMILARITY_PROTOCOL)
  }

  async query (peer: PeerId, request: SimilarityRequest, options: AbortOptions = {}): Promise<SiteHit[]> {
    const q = checkQuery(request)
    if (peer.equals(this.components.peerId)) return await this.askSelf({ ...q, auth: request.auth }, q, options)
    const stream = await this.components.connectionManager.openStream(peer, SIMILARITY_PROTOCOL, options)
    const body = await rpcCall(stream, { ...q, auth: request.auth }, this.limits, options.signal)
    return parseHits(body, q)
  }

  /**
   * This site, asked in-process: the same handler, access check (audited,
   * remote peer = this node) and answer checks as over the wire.
   */
  private async askSelf (request: Record<string, unknown>, q: SimilarityQuery, options: AbortOptions): Promise<SiteHit[]> {
    const timeout = AbortSignal.timeout(this.limits.timeoutMs)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    let reply: RpcReply
    try {
      reply = await this.serve(request, { remotePeer: this.components.peerId }, signal)
    } catch (err) {
      signal.throwIfAborted()
      throw statusError(err instanceof ProtocolError ? 'INVALID' : 'ERROR')
    }
    signal.throwIfAborted()
    if (reply.status !== 'OK') throw statusError(reply.status, reply.reason)
    return parseHits(reply.body, q)
  }

  async rankFederation (query: FederationQuery): Promise<FederationResult> {
    return await rankFederation(async (peer, request, options) => await this.query(peer, request, options), query)
  }
}

export function similarityRanking (init: SimilarityRankingInit): (components: SimilarityRankingComponents) => SimilarityRanking {
  return (components) => new SimilarityRankingService(components, init)
}
