/**
 * The ranking engine of one site: comparable candidates → pre-filter on
 * histogram distance (keep the best M) → score thumbnails with a measure →
 * top-K by score. Pure and synchronous; a `Ranker` keeps its buffers across
 * queries, and the per-candidate loops allocate nothing.
 *
 * Candidate features are trusted to be well-formed (they come from
 * `extractFeatures` or `decodeFeatures`, which check them); the engine only
 * skips those whose grid size or histogram bins differ from the query's.
 * The query is checked in full.
 */
import { PREFILTER_FACTOR, PREFILTER_MIN, MAX_TOP_K } from './constants.js'
import { SimilarityOptionsError } from './errors.js'
import { checkFeatures } from './features.js'
import { distanceFunction } from './histogram.js'
import { sameKeys } from './keys.js'
import { isMeasureName, prepareMeasure } from './measure.js'
import { SmallestK } from './select.js'
import type { FeatureKeys, Features, HistogramDistanceName, MeasureName } from './types.js'

export interface RankCandidate {
  /** The caller's handle (an LFN); returned as is. */
  id: string
  features: Features
}

export interface RankOptions {
  measure: MeasureName
  topK: number
  /** NMI bins / CR classes (default 16). */
  bins?: number
  /** Canonical-grid voxels to compare (size³ entries, non-zero = used). */
  mask?: Uint8Array
  /** Pre-filter distance (default 'emd'). */
  distance?: HistogramDistanceName
  /**
   * How many candidates the pre-filter keeps: default
   * max(PREFILTER_FACTOR·topK, PREFILTER_MIN); Infinity scores them all.
   */
  prefilterKeep?: number
  /** Which candidates may be compared to the query (default: same modality and body part). */
  comparable?: (query: FeatureKeys, candidate: FeatureKeys) => boolean
}

export interface RankHit { id: string, score: number }

export interface RankStats {
  /** Candidates given. */
  candidates: number
  /** Comparable (keys, grid and bins match). */
  comparable: number
  /** Scored with the measure (kept by the pre-filter). */
  scored: number
}

export interface Ranking { hits: RankHit[], stats: RankStats }

export function defaultPrefilterKeep (topK: number): number {
  return Math.max(PREFILTER_FACTOR * topK, PREFILTER_MIN)
}

function resolve (options: RankOptions): { topK: number, keep: number } {
  if (options === null || typeof options !== 'object') throw new SimilarityOptionsError('options', 'not an object')
  if (!isMeasureName(options.measure)) throw new SimilarityOptionsError('measure', 'unknown measure')
  const topK = options.topK
  if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) throw new SimilarityOptionsError('topK', `expected an integer in [1, ${MAX_TOP_K}]`)
  const keep = options.prefilterKeep ?? defaultPrefilterKeep(topK)
  if (!(keep === Infinity || (Number.isInteger(keep) && keep >= topK))) {
    throw new SimilarityOptionsError('prefilterKeep', 'expected an integer ≥ topK, or Infinity')
  }
  return { topK, keep }
}

export class Ranker {
  private eligible = new Int32Array(0)
  private kept = new Int32Array(0)
  private readonly prefilter = new SmallestK()
  private readonly best = new SmallestK()

  private grow (n: number): void {
    if (this.eligible.length < n) {
      this.eligible = new Int32Array(n)
      this.kept = new Int32Array(n)
    }
  }

  /**
   * Top-K candidates most similar to `query`, best first (ties: earlier candidate first).
   *
   * @example
   * const { hits } = new Ranker().rank(query, candidates, { measure: 'cr', topK: 10 })
   */
  rank (query: Features, candidates: readonly RankCandidate[], options: RankOptions): Ranking {
    const { topK, keep } = resolve(options)
    checkFeatures(query)
    if (!Array.isArray(candidates)) throw new SimilarityOptionsError('candidates', 'not an array')
    const comparable = options.comparable ?? sameKeys
    const distance = distanceFunction(options.distance ?? 'emd')
    const measure = prepareMeasure(options.measure, query.thumbnail, { bins: options.bins, mask: options.mask })
    const usesRange = options.mask === undefined
    const voxels = query.thumbnail.length
    const bins = query.histogram.length
    const n = candidates.length
    this.grow(n)

    // 1. comparable candidates
    const eligible = this.eligible
    let m = 0
    for (let i = 0; i < n; i++) {
      const f = (candidates[i] as RankCandidate).features
      if (f.thumbnail.length === voxels && f.histogram.length === bins && comparable(query.keys, f.keys)) eligible[m++] = i
    }

    // 2. pre-filter: the `keep` nearest histograms
    let list = eligible
    let count = m
    if (keep < m) {
      this.prefilter.reset(keep)
      const qh = query.histogram
      for (let t = 0; t < m; t++) {
        const i = eligible[t] as number
        this.prefilter.offer(distance(qh, (candidates[i] as RankCandidate).features.histogram), i)
      }
      count = this.prefilter.drainItems(this.kept)
      list = this.kept
    }

    // 3. score thumbnails, keep the top K (scores negated: the selection keeps the smallest)
    this.best.reset(topK)
    for (let t = 0; t < count; t++) {
      const i = list[t] as number
      const f = (candidates[i] as RankCandidate).features
      const s = usesRange ? measure.score(f.thumbnail, f.thumbnailMin, f.thumbnailMax) : measure.score(f.thumbnail)
      this.best.offer(Number.isNaN(s) ? Infinity : -s, i)
    }
    const hits = this.best.drain().map(({ key, item }) => ({ id: (candidates[item] as RankCandidate).id, score: -key }))
    return { hits, stats: { candidates: n, comparable: m, scored: count } }
  }
}

/** One-off ranking with a fresh engine (see Ranker.rank). */
export function rankCandidates (query: Features, candidates: readonly RankCandidate[], options: RankOptions): Ranking {
  return new Ranker().rank(query, candidates, options)
}
