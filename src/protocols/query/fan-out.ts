/**
 * The requesting side: one query to every site offering metadata service, in
 * parallel, each within its own timeout; answers merged and de-duplicated by
 * LFN; sites that did not answer, or answered with an error, listed in
 * `partial` with a reason code (DM² issue 7: "results merged, de-duplicated,
 * with partial: [sites that did not answer]"). One slow or failing site never
 * fails the whole query; only the caller's own AbortSignal does.
 */
import type { AbortOptions, PeerId } from '@libp2p/interface'
import { checkRights, compile, normalize, parseCanonical, validateQuery, type QueryNode, type RecordPredicate } from '../../query/index.js'
import { RemoteStatusError } from '../status.js'
import { DEFAULT_LIMIT, DEFAULT_SITE_TIMEOUT_MS, MAX_RESULTS } from './constants.js'
import { QueryOptionsError } from './errors.js'
import { queryArguments } from './wire.js'
import type { FanOutOptions, FanOutResult, MergedResult, PartialSite, SiteAnswer, SiteRequest } from './types.js'

export type AskFn = (peer: PeerId, request: SiteRequest, options: AbortOptions) => Promise<SiteAnswer>

type Outcome = { peer: string, answer: SiteAnswer } | { peer: string, partial: PartialSite }

/** Errors that mean the site's answer broke the protocol (bad frame, bad encoding, bad content). */
const BAD_ANSWER = new Set(['ProtocolError', 'MalformedRecordError', 'NonCanonicalError', 'InvalidDataLengthError', 'InvalidDataLengthLengthError'])

function classify (peer: string, err: unknown, timedOut: boolean): PartialSite {
  if (timedOut) return { peer, reason: 'TIMEOUT' }
  if (err instanceof RemoteStatusError) {
    return err.reason === undefined ? { peer, reason: err.status } : { peer, reason: err.status, code: err.reason }
  }
  const name = (err as Error)?.name
  if (name === 'SiteUnreachableError') return { peer, reason: 'UNREACHABLE' }
  if (BAD_ANSWER.has(name)) return { peer, reason: 'BAD_ANSWER' }
  return { peer, reason: 'FAILED' }
}

/** The query as a canonical AST, checked here so a bad query fails locally with a typed `QueryError`. */
function prepare (options: FanOutOptions): { ast: QueryNode, identified: boolean, limit: number, timeoutMs: number } {
  const ast = typeof options.query === 'string' ? parseCanonical(options.query) : normalize(validateQuery(options.query))
  const identified = options.identified ?? false
  // The sites would refuse it (DENIED): say so here, naming the fields.
  checkRights(ast, { identified })
  const limit = options.limit ?? DEFAULT_LIMIT
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RESULTS) throw new QueryOptionsError(`limit must be an integer from 1 to ${MAX_RESULTS}`)
  const timeoutMs = options.timeoutMs ?? DEFAULT_SITE_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new QueryOptionsError('timeoutMs must be positive')
  return { ast, identified, limit, timeoutMs }
}

function merge (outcomes: Outcome[], match: RecordPredicate, limit: number): FanOutResult {
  const byLfn = new Map<string, MergedResult>()
  const partial: PartialSite[] = []
  let truncated = false
  for (const o of outcomes) {
    if ('partial' in o) { partial.push(o.partial); continue }
    truncated ||= o.answer.truncated
    for (const r of o.answer.results) {
      // A site answers for its own data, but what it sends must at least satisfy the query.
      if (!match({ ...r.fields, ...r.identifying, lfn: r.lfn })) continue
      const seen = byLfn.get(r.lfn)
      if (seen === undefined) {
        byLfn.set(r.lfn, { ...r, sites: [o.peer] })
      } else {
        if (!seen.sites.includes(o.peer)) seen.sites.push(o.peer)
        if (seen.identifying === undefined && r.identifying !== undefined) seen.identifying = r.identifying
      }
    }
  }
  const all = [...byLfn.values()].sort((a, b) => a.lfn < b.lfn ? -1 : a.lfn > b.lfn ? 1 : 0)
  for (const r of all) r.sites.sort()
  if (all.length > limit) truncated = true
  return { results: all.slice(0, limit), partial: partial.sort((a, b) => a.peer < b.peer ? -1 : 1), truncated }
}

/** Asks every site with `ask`; see the module doc. Throws a `QueryError` for a bad query, the abort reason if `signal` aborts. */
export async function fanOut (ask: AskFn, options: FanOutOptions): Promise<FanOutResult> {
  const { ast, identified, limit, timeoutMs } = prepare(options)
  const args = queryArguments(ast, identified, limit)
  options.signal?.throwIfAborted()
  const sites = new Map<string, PeerId>()
  for (const s of options.sites) sites.set(s.toString(), s)

  const one = async (peer: PeerId): Promise<Outcome> => {
    const id = peer.toString()
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    let auth: Uint8Array | undefined
    try {
      auth = await options.auth(peer, args)
    } catch {
      auth = undefined
    }
    if (auth === undefined) return { peer: id, partial: { peer: id, reason: 'NO_AUTHORIZATION' } }
    try {
      return { peer: id, answer: await ask(peer, { query: ast, identified, limit, auth }, { signal }) }
    } catch (err) {
      return { peer: id, partial: classify(id, err, timeout.aborted) }
    }
  }

  const outcomes = await Promise.all([...sites.values()].map(one))
  options.signal?.throwIfAborted()
  return merge(outcomes, compile(ast), limit)
}
