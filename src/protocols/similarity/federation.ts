/**
 * The requester's side of a federated similarity query: the same query to
 * every site at once, each with its own deadline and its own authorization
 * (an invocation is addressed to one site and used once), then the top K
 * merged across sites. A site that fails is reported, with a reason code,
 * and the others' results stand: the answer is partial, never absent.
 */
import type { AbortOptions, PeerId } from '@libp2p/interface'
import { RemoteStatusError } from '../status.js'
import { DEFAULT_SITE_TIMEOUT_MS } from './constants.js'
import { SimilarityQueryError } from './errors.js'
import { checkQuery, similarityArguments, type SimilarityQuery, type SimilarityRequest, type SiteHit } from './wire.js'

export interface FederationQuery extends Omit<SimilarityQuery, 'requireDiagnosis'> {
  /** The sites to ask (each site ranks only its own series). */
  sites: readonly PeerId[]
  requireDiagnosis?: boolean
  /**
   * The authorization for one site: `encodeAuthorization()` of an invocation
   * for `similarity` addressed to `peer`, bound to `args` (the same for all
   * sites: `similarityArguments` of the query).
   */
  auth: (peer: PeerId, args: Uint8Array) => Uint8Array | Promise<Uint8Array>
  /** Per-site deadline, ms (default 10 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

/** One merged result: a site's hit and the site that holds the series. */
export interface FederatedHit extends SiteHit {
  site: string
}

/**
 * Why a site is missing from the results:
 * TIMEOUT (no answer in time), UNREACHABLE (no connection or stream),
 * AUTH (no authorization could be made for it), PROTOCOL (malformed answer),
 * or the site's status: DENIED, BUSY, INVALID, NOT_FOUND, ERROR.
 */
export type SiteFailureReason = 'TIMEOUT' | 'UNREACHABLE' | 'AUTH' | 'PROTOCOL' | 'DENIED' | 'BUSY' | 'INVALID' | 'NOT_FOUND' | 'ERROR'

export interface SiteFailure {
  site: string
  reason: SiteFailureReason
  /** The site's machine-readable reason, e.g. the access-control code of a denial. */
  remoteReason?: string
}

export interface FederationResult {
  /** Best first, at most topK, across all sites that answered. */
  results: FederatedHit[]
  /** Sites that did not answer, and why; empty when the result is complete. */
  partial: SiteFailure[]
}

/** How one site is asked (the service's `query`). */
export type AskSite = (peer: PeerId, request: SimilarityRequest, options: AbortOptions) => Promise<SiteHit[]>

class AuthFailure extends Error {}

function failure (site: string, err: unknown, timedOut: boolean): SiteFailure {
  if (err instanceof AuthFailure) return { site, reason: 'AUTH' }
  if (err instanceof RemoteStatusError) {
    const f: SiteFailure = { site, reason: err.status }
    if (err.reason !== undefined) f.remoteReason = err.reason
    return f
  }
  if (timedOut) return { site, reason: 'TIMEOUT' }
  if ((err as Error)?.name === 'ProtocolError') return { site, reason: 'PROTOCOL' }
  return { site, reason: 'UNREACHABLE' }
}

/** Merges per-site hits: best score first, one entry per LFN, ties by site then LFN (deterministic). */
export function mergeHits (perSite: ReadonlyArray<{ site: string, hits: readonly SiteHit[] }>, topK: number): FederatedHit[] {
  const byLfn = new Map<string, FederatedHit>()
  for (const { site, hits } of perSite) {
    for (const h of hits) {
      const seen = byLfn.get(h.lfn)
      if (seen === undefined || h.score > seen.score) byLfn.set(h.lfn, { ...h, site })
    }
  }
  return [...byLfn.values()]
    .sort((a, b) => b.score - a.score || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0) || (a.lfn < b.lfn ? -1 : a.lfn > b.lfn ? 1 : 0))
    .slice(0, topK)
}

/**
 * Asks every site in parallel and merges the top K. Resolves with the
 * sites that failed listed in `partial`; rejects only on bad options
 * (SimilarityQueryError) or when `signal` aborts.
 */
export async function rankFederation (ask: AskSite, query: FederationQuery): Promise<FederationResult> {
  const q = checkQuery({ features: query.features, measure: query.measure, topK: query.topK, requireDiagnosis: query.requireDiagnosis ?? false })
  if (!Array.isArray(query.sites)) throw new SimilarityQueryError('sites', 'expected a list of peer ids')
  const timeoutMs = query.timeoutMs ?? DEFAULT_SITE_TIMEOUT_MS
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new SimilarityQueryError('timeoutMs', 'expected a positive number of ms')
  query.signal?.throwIfAborted()
  const args = similarityArguments(q)
  const sites = [...new Map(query.sites.map(p => [p.toString(), p])).values()]

  type Outcome = { site: string, hits: SiteHit[] } | { site: string, failure: SiteFailure }
  const outcomes = await Promise.all(sites.map(async (peer): Promise<Outcome> => {
    const site = peer.toString()
    const deadline = AbortSignal.timeout(timeoutMs)
    const signal = query.signal === undefined ? deadline : AbortSignal.any([query.signal, deadline])
    try {
      let auth: Uint8Array
      try {
        auth = await query.auth(peer, args)
      } catch {
        throw new AuthFailure()
      }
      // Whatever the transport does with the signal, the deadline holds.
      const hits = await new Promise<SiteHit[]>((resolve, reject) => {
        const onAbort = (): void => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        if (signal.aborted) onAbort()
        ask(peer, { ...q, auth }, { signal }).then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
      })
      return { site, hits }
    } catch (err) {
      return { site, failure: failure(site, err, deadline.aborted) }
    }
  }))
  query.signal?.throwIfAborted()
  const answered: Array<{ site: string, hits: SiteHit[] }> = []
  const partial: SiteFailure[] = []
  for (const o of outcomes) {
    if ('hits' in o) answered.push(o)
    else partial.push(o.failure)
  }
  return { results: mergeHits(answered, q.topK), partial }
}
