import { describe, expect, it } from 'vitest'
import {
  Ranker, defaultPrefilterKeep, extractFeatures, histogramDistance, rankCandidates, similarity
} from '../../src/similarity/index.js'
import type { Features, RankCandidate } from '../../src/similarity/index.js'
import { BASE_SHAPES, FAMILY_VARIANTS, axial, ctVolume, randomPhantom } from './phantom.js'

interface Member extends RankCandidate { family: number }

// 5 base volumes × 8 variants, each variant with its own noise pattern.
const acquisition = axial([40, 40, 32], [2.5, 2.5, 3])
const set: Member[] = BASE_SHAPES.flatMap((shape, family) => {
  const phantom = randomPhantom(11 + family, shape)
  return FAMILY_VARIANTS.map((variant, v) => ({
    id: `base${family}/v${v}`,
    family,
    features: extractFeatures(ctVolume(phantom, acquisition, { ...variant, noiseSeed: 100 * family + v }))
  }))
})

const errorName = (f: () => unknown): string => { try { f(); return 'no error' } catch (err) { return (err as Error).name } }

describe('ranking a synthetic set of 5 families × 8 variants', () => {
  for (const measure of ['ncc', 'nmi', 'cr'] as const) {
    it(`${measure}: the top 7 of every query are the other members of its family`, () => {
      const ranker = new Ranker()
      for (const query of set) {
        const candidates = set.filter(c => c !== query)
        const { hits, stats } = ranker.rank(query.features, candidates, { measure, topK: 7 })
        expect(stats).toEqual({ candidates: 39, comparable: 39, scored: 39 })
        expect(hits.map(h => h.id.split('/')[0]).sort()).toEqual(Array(7).fill(`base${query.family}`))
        for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score)
      }
    })

    it(`${measure}: the query itself, among the candidates, comes first with the best score`, () => {
      const query = set[13]!
      const { hits } = rankCandidates(query.features, set, { measure, topK: 3 })
      expect(hits[0]!.id).toBe(query.id)
      // NCC and NMI reach their maximum; CR loses the within-class variance of X's 16 bins
      if (measure === 'cr') expect(hits[0]!.score).toBeGreaterThan(0.999)
      else expect(hits[0]!.score).toBeCloseTo({ ncc: 1, nmi: 2 }[measure], 9)
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score)
    })
  }

  it('scores exactly what the measure says for each pair', () => {
    const query = set[0]!.features
    for (const measure of ['ncc', 'nmi', 'cr'] as const) {
      const { hits } = rankCandidates(query, set, { measure, topK: 40, bins: 24 })
      expect(hits).toHaveLength(40)
      for (const hit of hits) {
        const c = set.find(m => m.id === hit.id)!
        expect(hit.score).toBeCloseTo(similarity(measure, query.thumbnail, c.features.thumbnail, { bins: 24 }), 12)
      }
    }
  })

  it('applies a mask to the query and every candidate', () => {
    const query = set[9]!.features
    const mask = new Uint8Array(query.thumbnail.length)
    for (let i = 0; i < mask.length; i += 3) mask[i] = 1
    const { hits } = rankCandidates(query, set, { measure: 'cr', topK: 5, mask })
    for (const hit of hits) {
      const c = set.find(m => m.id === hit.id)!
      expect(hit.score).toBeCloseTo(similarity('cr', query.thumbnail, c.features.thumbnail, { mask }), 12)
    }
  })
})

describe('ranking engine mechanics', () => {
  const query = set[0]!.features

  it('pre-filters to the `keep` nearest histograms, by default max(10·topK, 200)', () => {
    expect(defaultPrefilterKeep(1)).toBe(200)
    expect(defaultPrefilterKeep(50)).toBe(500)
    const keep = 12
    const { hits, stats } = rankCandidates(query, set, { measure: 'ncc', topK: keep, prefilterKeep: keep, distance: 'chi2' })
    expect(stats).toEqual({ candidates: 40, comparable: 40, scored: keep })
    // the survivors are the 12 smallest chi-square distances (ties to the earlier candidate)
    const nearest = set
      .map((c, i) => ({ id: c.id, d: histogramDistance(query.histogram, c.features.histogram, 'chi2'), i }))
      .sort((a, b) => a.d - b.d || a.i - b.i)
      .slice(0, keep)
      .map(c => c.id)
    expect(hits.map(h => h.id).sort()).toEqual(nearest.sort())
    // boundaries: one fewer than the candidates drops exactly one; as many or more keeps all
    expect(rankCandidates(query, set, { measure: 'cr', topK: 1, prefilterKeep: 39 }).stats.scored).toBe(39)
    expect(rankCandidates(query, set, { measure: 'cr', topK: 1, prefilterKeep: 40 }).stats.scored).toBe(40)
    expect(rankCandidates(query, set, { measure: 'cr', topK: 1 }).stats.scored).toBe(40)
  })

  it('ranks only comparable candidates: same modality and body part, same grid and bins', () => {
    const other = (f: Features, patch: Partial<Features>): Features => ({ ...f, ...patch })
    const candidates: RankCandidate[] = [
      { id: 'same', features: set[1]!.features },
      { id: 'mr', features: other(set[1]!.features, { keys: { modality: 'MR', bodyPart: 'CHEST' } }) },
      { id: 'head', features: other(set[1]!.features, { keys: { modality: 'CT', bodyPart: 'HEAD' } }) },
      { id: '16cube', features: extractFeatures(ctVolume(randomPhantom(11), acquisition), { thumbnailSize: 16 }) },
      { id: '32bins', features: extractFeatures(ctVolume(randomPhantom(11), acquisition), { histogramBins: 32 }) }
    ]
    const { hits, stats } = rankCandidates(query, candidates, { measure: 'nmi', topK: 10 })
    expect(hits.map(h => h.id)).toEqual(['same'])
    expect(stats).toEqual({ candidates: 5, comparable: 1, scored: 1 })
    const any = rankCandidates(query, candidates, { measure: 'nmi', topK: 10, comparable: (q, c) => q.modality === c.modality })
    expect(any.hits.map(h => h.id).sort()).toEqual(['head', 'same'])
  })

  it('breaks ties by candidate order and reuses its buffers across queries of any size', () => {
    const ranker = new Ranker()
    const copies: RankCandidate[] = ['c', 'a', 'b'].map(id => ({ id, features: set[5]!.features }))
    expect(ranker.rank(query, copies, { measure: 'ncc', topK: 2 }).hits.map(h => h.id)).toEqual(['c', 'a'])
    expect(ranker.rank(query, set, { measure: 'ncc', topK: 1 }).hits[0]!.id).toBe(set[0]!.id)
    expect(ranker.rank(query, [], { measure: 'cr', topK: 5 })).toEqual({ hits: [], stats: { candidates: 0, comparable: 0, scored: 0 } })
  })

  it('rejects bad options and a malformed query with typed errors', () => {
    const ok = { measure: 'ncc', topK: 5 } as const
    expect(errorName(() => rankCandidates(query, set, { ...ok, topK: 0 }))).toBe('SimilarityOptionsError')
    expect(errorName(() => rankCandidates(query, set, { ...ok, topK: 1.5 }))).toBe('SimilarityOptionsError')
    expect(errorName(() => rankCandidates(query, set, { ...ok, measure: 'ssd' as 'ncc' }))).toBe('SimilarityOptionsError')
    expect(errorName(() => rankCandidates(query, set, { ...ok, prefilterKeep: 4 }))).toBe('SimilarityOptionsError')
    expect(errorName(() => rankCandidates(query, set, { ...ok, distance: 'l1' as 'emd' }))).toBe('SimilarityOptionsError')
    expect(errorName(() => rankCandidates(query, set, { ...ok, bins: 1 }))).toBe('SimilarityOptionsError')
    expect(errorName(() => rankCandidates(query, set, { ...ok, mask: new Uint8Array(5) }))).toBe('IncomparableFeaturesError')
    expect(errorName(() => rankCandidates({ ...query, thumbnail: new Float32Array(8) }, set, ok))).toBe('InvalidFeaturesError')
    expect(errorName(() => rankCandidates(query, 'x' as unknown as RankCandidate[], ok))).toBe('SimilarityOptionsError')
  })
})
