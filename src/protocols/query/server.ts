/**
 * The serving side of `/dm2/query/1.0.0`: one request, one answer. In order,
 * each step refusing before the next costs anything:
 *
 * 1. shape (wire.ts) and the AST (`validateQuery`: a peer's AST is never
 *    trusted) → INVALID with the query error's name as reason;
 * 2. identifying fields named without `identified` → DENIED `IDENTIFYING_FIELD`
 *    (src/query `checkRights`; PS3.15 Annex E Table E.1-1 fields);
 * 3. one access check (coverage.ts): command `query`, arguments bound to the
 *    canonical query text, `identified` and `limit`; ability `query`, or
 *    `meta/read-identified` for an identified query (which must also hold
 *    `query`) → DENIED with the access-control reason code;
 * 4. the scan: a record is returned when the verified chain covers it and the
 *    query matches it, identifying fields only for an identified query, until
 *    the result cap, the byte cap or the scan time runs out (`truncated`).
 */
import type { Logger, PeerId } from '@libp2p/interface'
import { checkRights, compile, fieldsOf, normalize, validateQuery, type QueryNode } from '../../query/index.js'
import {
  decodeAuthorization, grants, MAX_CHAIN_LENGTH, openCertificateCached, type Authorization, type Certificate
} from '../../sac/index.js'
import type { RpcReply } from '../rpc.js'
import { DEFAULT_SCAN_MS, MAX_RESULTS, QUERY_COMMAND, QUERY_CONTENT_ID, QUERY_LIMITS } from './constants.js'
import { covers, witnessOf } from './coverage.js'
import { encodeAnswer, matchView, neededFields, parseRequest, queryArguments, resultOf } from './wire.js'
import type { MetadataQueryInit } from './types.js'

/** Room left in the answer for the CBOR map around the results text. */
const FRAME_OVERHEAD = 64

export interface ResolvedServerLimits {
  maxResults: number
  maxResponseBytes: number
  timeoutMs: number
  scanMs: number
}

/** The server's limits: the init's, never above the protocol's. */
export function resolveServerLimits (limits: MetadataQueryInit['limits'] = {}): ResolvedServerLimits {
  return {
    maxResults: Math.min(limits.maxResults ?? MAX_RESULTS, MAX_RESULTS),
    maxResponseBytes: Math.min(limits.maxResponseBytes ?? QUERY_LIMITS.maxResponseBytes, QUERY_LIMITS.maxResponseBytes),
    timeoutMs: limits.timeoutMs ?? QUERY_LIMITS.timeoutMs,
    scanMs: limits.scanMs ?? DEFAULT_SCAN_MS
  }
}

/** The chain's certificates, opened (signatures checked) — or undefined if any link does not open. */
function openChain (auth: Authorization, init: MetadataQueryInit): Certificate[] | undefined {
  if (auth.chain.length === 0 || auth.chain.length > MAX_CHAIN_LENGTH) return undefined
  try {
    return auth.chain.map(bytes => openCertificateCached(bytes, init.cache))
  } catch {
    return undefined
  }
}

/** The RPC handler; it reads only the remote peer of the connection (so the service can call it for itself). */
export type QueryHandler = (m: Record<string, unknown>, connection: { remotePeer: PeerId }, signal: AbortSignal) => Promise<RpcReply>

export function queryHandler (init: MetadataQueryInit, log: Logger): QueryHandler {
  const limits = resolveServerLimits(init.limits)
  return async (m, connection, signal) => {
    const req = parseRequest(m)
    let ast: QueryNode
    try {
      ast = normalize(validateQuery(req.query))
    } catch (err) {
      return { status: 'INVALID', reason: (err as Error).name }
    }
    if (!req.identified) {
      try {
        checkRights(ast, { identified: false })
      } catch {
        return { status: 'DENIED', reason: 'IDENTIFYING_FIELD' }
      }
    }
    let auth: Authorization
    try {
      auth = decodeAuthorization(req.auth)
    } catch {
      return { status: 'INVALID', reason: 'MALFORMED' }
    }
    const certificates = openChain(auth, init)
    const leaf = certificates?.[certificates.length - 1]
    // An identified query needs both abilities; the access check takes one, the other is checked here first.
    if (req.identified && leaf !== undefined && !grants(leaf.abilities, 'query')) return { status: 'DENIED', reason: 'ABILITY_MISSING' }
    const witness = certificates === undefined ? undefined : witnessOf(certificates, init.custodian)
    const decision = await init.access.check({
      invocation: auth.invocation,
      chain: auth.chain,
      memberships: auth.memberships,
      command: QUERY_COMMAND,
      args: queryArguments(ast, req.identified, req.limit),
      // Without a witness the chain covers nothing (or does not open): the check denies and audits why.
      resource: witness ?? { owner: init.custodian, custodian: init.custodian, contentId: QUERY_CONTENT_ID },
      ability: req.identified ? 'meta/read-identified' : 'query',
      remotePeer: connection.remotePeer.toString()
    })
    if (!decision.allow) return { status: 'DENIED', reason: decision.reason }
    // Allowed: the check verified these very bytes, so `certificates` is the verified chain.
    if (certificates === undefined) return { status: 'ERROR' }

    const match = compile(ast)
    const needed = neededFields(fieldsOf(ast))
    const cap = Math.min(req.limit, limits.maxResults)
    const budget = limits.maxResponseBytes - FRAME_OVERHEAD
    const deadline = Date.now() + limits.scanMs
    const results: string[] = []
    let bytes = 2
    let truncated = false
    for await (const record of init.records({ identified: req.identified, query: ast })) {
      if (signal.aborted || Date.now() > deadline) { truncated = true; break }
      if (!covers(certificates, record.resource)) continue
      if (!match(matchView(record, needed, req.identified))) continue
      if (results.length >= cap) { truncated = true; break }
      const json = JSON.stringify(resultOf(record, req.identified))
      const size = Buffer.byteLength(json) + 1
      if (bytes + size > budget) { truncated = true; break }
      results.push(json)
      bytes += size
    }
    // Never the query text: it may hold a patient id.
    log('served a query from %p: %d results%s', connection.remotePeer, results.length, truncated ? ' (truncated)' : '')
    return { status: 'OK', body: encodeAnswer(results, truncated) }
  }
}
