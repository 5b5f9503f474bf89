/** Defaults and hard limits of the metadata query protocol, in one place. */
import type { RpcLimits } from '../rpc.js'

export const QUERY_PROTOCOL = '/dm2/query/1.0.0'

/**
 * Frame limits. The request holds the authorization bundle (≤ ~28 KiB, sac
 * MAX_BUNDLE_BYTES) and the query AST as JSON; the response at most
 * `maxResponseBytes` of results. A server may tighten these, never widen
 * them: the requester reads with exactly these caps.
 */
export const QUERY_LIMITS: RpcLimits = { maxRequestBytes: 96 * 1024, maxResponseBytes: 4 * 1024 * 1024, timeoutMs: 10_000 }

/** Longest query AST as JSON text (the text form is ≤ 4 KiB; the AST spells every node out). */
export const MAX_QUERY_JSON_BYTES = 48 * 1024

/** Most results one site returns for one request, whatever the requester asks. */
export const MAX_RESULTS = 1000
/** Results asked of each site when the caller gives no limit. */
export const DEFAULT_LIMIT = 100

/** Longest string value returned for one field (longer ones are left out). */
export const MAX_VALUE_CHARS = 1024
/** Longest LFN accepted in an answer (sac MAX_LFN_LENGTH). */
export const MAX_LFN_CHARS = 256

/**
 * Time a site spends scanning its records for one request: past it, it
 * answers with what it found and `truncated`. Below the message timeout, so
 * the answer still gets written.
 */
export const DEFAULT_SCAN_MS = 5_000

/** Time the requester waits for each site, unless told otherwise. */
export const DEFAULT_SITE_TIMEOUT_MS = 5_000

/** Inbound/outbound streams of this protocol per connection. */
export const MAX_STREAMS = 16

/**
 * The content id of the resource named in the one access check a query makes
 * (see coverage.ts): not a file, a query over this site. Shows in the audit log.
 */
export const QUERY_CONTENT_ID = 'dm2-query'

/** The command an invocation for a query names. */
export const QUERY_COMMAND = 'query'
