/**
 * Ranking at one site, once the query is authorized: walk the site's index,
 * skip what the chain does not cover (its features are never loaded), skip
 * what is not comparable (other modality or body region; no diagnosis when
 * one is required), decode the rest in bounded batches and rank them with
 * the similarity engine (histogram pre-filter, then the measure), keeping
 * the best K across batches.
 */
import {
  decodeFeatures, featureKeys, Ranker, type FeatureKeys, type Features, type MeasureName, type RankCandidate
} from '../../similarity/index.js'
import type { ResourceDescriptor } from '../../sac/index.js'
import type { Coverage } from './coverage.js'
import type { SiteHit } from './wire.js'

/** Encoded features (decoded strictly), features already decoded, or a loader called only for covered, comparable series. */
export type FeatureSource = Uint8Array | Features | (() => Promise<Uint8Array | Features>)

/** One indexed series of this site. */
export interface Candidate {
  lfn: string
  /** Loaded only for series the chain covers and that are comparable. */
  features: FeatureSource
  /** Comparability keys (DICOM CS), as stored with the descriptive metadata. */
  modality: string
  bodyPart: string
  /** The latest diagnosis text, if the series has one. */
  diagnosis?: string
  /** What access control knows about the series (owner, custodian, content id, keys, date, study type). */
  resource: ResourceDescriptor
}

/** What one ranking did; the uncovered count goes to the site's log and hook, not to the requester. */
export interface SiteCounts {
  /** Series in the index. */
  candidates: number
  /** Not covered by the chain: never loaded, never scored. */
  uncovered: number
  /** Covered but another modality/body region, or no diagnosis when one is required. */
  incomparable: number
  /** Covered and comparable, but their stored features failed to load or decode. */
  invalid: number
  /** Decoded and given to the ranking engine. */
  ranked: number
  /** Results returned. */
  returned: number
}

export interface SiteRankingInput {
  query: Features
  measure: MeasureName
  topK: number
  requireDiagnosis: boolean
  coverage: Coverage
  candidates: AsyncIterable<Candidate>
  ranker: Ranker
  batch: number
  signal: AbortSignal
}

function keysOf (c: Candidate): FeatureKeys | undefined {
  try {
    return featureKeys(c.modality, c.bodyPart)
  } catch {
    return undefined
  }
}

/** True when the candidate may be compared with a query of `keys`. */
export function comparable (c: Candidate, keys: FeatureKeys, requireDiagnosis: boolean): boolean {
  const k = keysOf(c)
  if (k === undefined || k.modality !== keys.modality || k.bodyPart !== keys.bodyPart) return false
  return !requireDiagnosis || (typeof c.diagnosis === 'string' && c.diagnosis.length > 0)
}

async function load (source: FeatureSource): Promise<Features> {
  const value = typeof source === 'function' ? await source() : source
  return value instanceof Uint8Array ? decodeFeatures(value) : value
}

interface Kept { seq: number, hit: SiteHit }

/**
 * The first series of the index the chain covers and the query may be
 * compared with: the resource the one access check is made against.
 */
export async function firstCovered (candidates: AsyncIterable<Candidate>, coverage: Coverage, keys: FeatureKeys, requireDiagnosis: boolean, signal: AbortSignal): Promise<Candidate | undefined> {
  for await (const c of candidates) {
    signal.throwIfAborted()
    if (coverage.covers(c.resource) && comparable(c, keys, requireDiagnosis)) return c
  }
  return undefined
}

/** The best `topK` covered, comparable series, best first (ties: index order). */
export async function rankSite (input: SiteRankingInput): Promise<{ hits: SiteHit[], counts: SiteCounts }> {
  const { query, measure, topK, requireDiagnosis, coverage, ranker, signal } = input
  const counts: SiteCounts = { candidates: 0, uncovered: 0, incomparable: 0, invalid: 0, ranked: 0, returned: 0 }
  let best: Kept[] = []
  let batch: RankCandidate[] = []
  let meta: Array<{ seq: number, c: Candidate }> = []

  const flush = (): void => {
    if (batch.length === 0) return
    const { hits } = ranker.rank(query, batch, { measure, topK })
    for (const h of hits) {
      if (!Number.isFinite(h.score)) continue
      const { seq, c } = meta[Number(h.id)] as { seq: number, c: Candidate }
      const hit: SiteHit = { lfn: c.lfn, score: h.score, modality: query.keys.modality, bodyPart: query.keys.bodyPart }
      if (coverage.metaRead && typeof c.diagnosis === 'string' && c.diagnosis.length > 0) hit.diagnosis = c.diagnosis
      best.push({ seq, hit })
    }
    best = best.sort((a, b) => b.hit.score - a.hit.score || a.seq - b.seq).slice(0, topK)
    batch = []
    meta = []
  }

  for await (const c of input.candidates) {
    signal.throwIfAborted()
    const seq = counts.candidates++
    if (!coverage.covers(c.resource)) { counts.uncovered++; continue }
    if (!comparable(c, query.keys, requireDiagnosis)) { counts.incomparable++; continue }
    let features: Features
    try {
      features = await load(c.features)
    } catch {
      counts.invalid++
      continue
    }
    batch.push({ id: String(meta.length), features })
    meta.push({ seq, c })
    counts.ranked++
    if (batch.length >= input.batch) flush()
  }
  flush()
  counts.returned = best.length
  return { hits: best.map(k => k.hit), counts }
}
