/** Types of the metadata query protocol: what a site scans, what travels, what the requester gets. */
import type { AbortOptions, ComponentLogger, PeerId } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Literal, MetadataRecord, QueryNode } from '../../query/index.js'
import type { AccessRequest, Decision, ResourceDescriptor, VerifiedCache } from '../../sac/index.js'

/**
 * One series of this site, as the query service sees it. Field names are the
 * canonical names of src/query/schema.ts; values as a `MetadataRecord`
 * (strings, numbers, booleans; DICOM text forms are read by type).
 */
export interface QueryRecord {
  lfn: string
  /** Descriptive fields (schema `identifying: false`); any other name here is ignored. */
  descriptive: MetadataRecord
  /**
   * Identifying fields (schema `identifying: true`, PS3.15 Annex E Table
   * E.1-1); read only for an identified query. A source may leave them out
   * when `scan.identified` is false.
   */
  identifying?: MetadataRecord
  /** What access control knows about the series (owner, custodian, modality, body part, date, study type). */
  resource: ResourceDescriptor
}

/**
 * What the source is asked for. Identifying fields are needed only when
 * `identified`. `query` (validated, canonical) lets a source narrow the scan
 * with its indexes (e.g. an `=` on modality); every record it yields is still
 * checked against the chain and the query.
 */
export interface RecordScan {
  identified: boolean
  query: QueryNode
}

/** Limits a site may tighten (never widen beyond QUERY_LIMITS / MAX_RESULTS). */
export interface QueryServiceLimits {
  /** Most results per answer. */
  maxResults?: number
  /** Largest answer, bytes. */
  maxResponseBytes?: number
  /** Time allowed for each message (read, write), ms. */
  timeoutMs?: number
  /** Time spent scanning records for one request before answering with what was found, ms. */
  scanMs?: number
}

export interface MetadataQueryInit {
  access: { check: (request: AccessRequest) => Promise<Decision> }
  /** This site's series; iterated once per request (a `break` ends the iteration). */
  records: (scan: RecordScan) => AsyncIterable<QueryRecord>
  /** This site's custodian key (the root of certificates for its data). */
  custodian: Uint8Array
  limits?: QueryServiceLimits
  /** The access-control module's verified-record cache, to open the chain once. */
  cache?: VerifiedCache
}

export interface MetadataQueryComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

/** One result from one site. Values are canonical (src/query `readValue`): dates `YYYYMMDD`, codes upper-cased. */
export interface QueryResult {
  lfn: string
  /** Descriptive fields by schema name (without `lfn`). */
  fields: Record<string, Literal>
  /** Identifying fields by schema name, only for an identified query. */
  identifying?: Record<string, Literal>
}

/** A merged result: which sites returned it. */
export interface MergedResult extends QueryResult {
  /** Peer ids of the sites that returned this LFN, sorted. */
  sites: string[]
}

/** One site's answer. */
export interface SiteAnswer {
  results: QueryResult[]
  /** The site had more matching records than it returned (limit, size or time). */
  truncated: boolean
}

/** A request to one site, as the low-level `ask` sends it. */
export interface SiteRequest {
  /** The canonical AST; the site validates it whatever the requester did. */
  query: QueryNode
  identified: boolean
  limit: number
  /** `encodeAuthorization()` of an invocation for `query` with `queryArguments(query, identified, limit)`. */
  auth: Uint8Array
}

/** Why a site is missing from the results. */
export type PartialReason =
  | 'NO_AUTHORIZATION' // no chain for this site: nothing was sent
  | 'UNREACHABLE' // no stream could be opened
  | 'TIMEOUT' // no answer within the per-site timeout
  | 'DENIED' | 'INVALID' | 'BUSY' | 'ERROR' | 'NOT_FOUND' // the site's status
  | 'BAD_ANSWER' // the answer broke the protocol
  | 'FAILED' // the stream failed after it was opened

export interface PartialSite {
  peer: string
  reason: PartialReason
  /** The site's machine-readable reason code (e.g. `REPLAY`, `UnknownFieldError`), when it gave one. */
  code?: string
}

export interface FanOutOptions {
  sites: readonly PeerId[]
  /** Query text (parsed here) or an AST (validated here). */
  query: string | QueryNode
  identified?: boolean
  /** Results asked of each site, and most results returned. */
  limit?: number
  /** The authorization for one site; `args` is `queryArguments(...)`. Undefined: no chain for that site. */
  auth: (peer: PeerId, args: Uint8Array) => Uint8Array | undefined | Promise<Uint8Array | undefined>
  /** Per-site timeout, ms. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface FanOutResult {
  /** De-duplicated by LFN, sorted by LFN, at most `limit`. */
  results: MergedResult[]
  /** Sites that did not answer, or answered with an error. */
  partial: PartialSite[]
  /** Some site had more, or the merge cut the list at `limit`. */
  truncated: boolean
}

export interface MetadataQuery {
  /** Asks one site (no retry, no validation of the query beyond sending it). */
  ask: (peer: PeerId, request: SiteRequest, options?: AbortOptions) => Promise<SiteAnswer>
  /** Asks every site in parallel, each within its timeout; merges what came back. */
  fanOut: (options: FanOutOptions) => Promise<FanOutResult>
}
