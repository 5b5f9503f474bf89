/**
 * From DICOM to a ranking: synthetic series (src/synthetic) assembled in
 * memory (src/assembly), features extracted with the assembly's LPS affine.
 */
import { describe, expect, it } from 'vitest'
import { assembleVolume, sourcesFromBuffers } from '../../src/assembly/index.js'
import { generateFamily } from '../../src/synthetic/index.js'
import type { SeriesOptions, Transform } from '../../src/synthetic/index.js'
import { Ranker, decodeFeatures, encodeFeatures, extractFeatures } from '../../src/similarity/index.js'
import type { Features, RankCandidate } from '../../src/similarity/index.js'

const transforms: Transform[] = [
  { name: 'noisier', noiseSigma: 25, noiseSeed: 'other' },
  { name: 'brighter', intensityScale: 1.15 },
  { name: 'shifted', shift: [1.5, -1.5, 0] }
]

async function ingest (options: SeriesOptions): Promise<Features[]> {
  const series = generateFamily(options, transforms)
  return await Promise.all(series.map(async ({ files }) => {
    const { data, plan } = await assembleVolume(sourcesFromBuffers(files))
    const features = extractFeatures({
      data,
      dims: plan.dims,
      affine: plan.geometry.affineLps,
      space: 'LPS',
      rescale: { slope: plan.scaling.sclSlope, intercept: plan.scaling.sclInter },
      modality: 'CT',
      bodyPart: 'CHEST'
    })
    // what the registry would store and a peer would receive
    return decodeFeatures(encodeFeatures(features))
  }))
}

describe('ingest → features → ranking', () => {
  it('ranks each assembled series\' own family first, for each measure', async () => {
    // Two bases: the phantom at two positions and sizes of field of view (two "patients").
    const families = [
      await ingest({ seed: 'base-a', slices: 24, rows: 40, columns: 48 }),
      await ingest({ seed: 'base-b', slices: 30, rows: 48, columns: 40, shift: [12, -8, 6], pixelSpacing: [0.9, 0.9] })
    ]
    const members = families.flatMap((f, family) => f.map((features, v) => ({ id: `${family}/${v}`, features })))
    expect(members).toHaveLength(8)
    expect(members[0]!.features.range).toEqual([-1024, 3071])
    const ranker = new Ranker()
    for (const measure of ['ncc', 'nmi', 'cr'] as const) {
      for (const query of members) {
        const candidates: RankCandidate[] = members.filter(m => m !== query)
        const { hits } = ranker.rank(query.features, candidates, { measure, topK: 3 })
        expect([measure, query.id, hits.map(h => h.id.split('/')[0])]).toEqual([measure, query.id, Array(3).fill(query.id.split('/')[0])])
      }
    }
  })
})
