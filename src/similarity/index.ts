/**
 * Content-based similarity (paper §2.3 and §4.5): features computed once at
 * ingest, measures on a canonical grid, and a site's ranking engine. Pure
 * functions on typed arrays, no I/O: the `/dm2/similarity/1.0.0` protocol
 * and the API/CLI call into this.
 *
 * - Features (`extractFeatures`): a `bins`-bin intensity histogram summing
 *   to 1 over a modality-aware range (CT: fixed [-1024, 3071] HU; others:
 *   the volume's 0.5–99.5 percentiles), a size³ thumbnail (32³ default, up
 *   to 64³) on a grid along patient R, A, S spanning the acquisition box
 *   turned to its nearest RAS-aligned orientation (= its bounding box when
 *   axis-aligned, in any voxel order or flip), anti-aliased, values min-max
 *   normalized over that range into [0, 1]; and modality/body-part keys.
 *   Input affines map voxel (i, j, k) centres to RAS mm by default (NIfTI
 *   sform, as src/assembly writes); `space: 'LPS'` takes DICOM patient
 *   coordinates (`plan.geometry.affineLps`).
 * - Encoding (`encodeFeatures`/`decodeFeatures`): versioned, checksummed,
 *   66 KiB for 32³ with uint16 thumbnails; strict typed-error decoder.
 * - Measures, higher = more similar: `ncc` [-1, 1], `nmi` (Studholme)
 *   [1, 2], `correlationRatio` η(candidate | query) (Roche et al.,
 *   MICCAI'98) [0, 1]; NMI/CR bin each image over its own [min, max] into
 *   16 bins by default; optional masks. Histogram distances for the pre-filter: 'emd' (default), 'chi2',
 *   'bhattacharyya', 'intersection', each in [0, 1], lower = closer.
 * - Ranking (`Ranker`): comparable keys → keep the best
 *   max(10·topK, 200) histograms → score thumbnails → top-K {id, score}.
 *   Synchronous and allocation-free per candidate; candidates' features
 *   must come from `extractFeatures` or `decodeFeatures` (checked there).
 *
 * @example
 * import { extractFeatures, encodeFeatures, decodeFeatures, Ranker } from './src/similarity/index.js'
 * const dims = [40, 40, 30] as const
 * const data = new Int16Array(40 * 40 * 30).map((_, i) => (i % 40 > 20 ? 60 : -1000))
 * const affine = [0.8, 0, 0, -16, 0, 0.8, 0, -16, 0, 0, 2, -30, 0, 0, 0, 1]
 * const query = extractFeatures({ data, dims, affine, modality: 'CT', bodyPart: 'CHEST' })
 * const stored = decodeFeatures(encodeFeatures(query))
 * const { hits } = new Ranker().rank(query, [{ id: 'lfn-1', features: stored }], { measure: 'ncc', topK: 10 })
 * console.log(hits) // [{ id: 'lfn-1', score: 0.99999… }]
 */
export * from './constants.js'
export * from './errors.js'
export type * from './types.js'
export { extractFeatures } from './extract.js'
export type { ExtractOptions } from './extract.js'
export { encodeFeatures, decodeFeatures } from './codec.js'
export type { EncodeOptions } from './codec.js'
export { checkFeatures } from './features.js'
export { featureKeys, sameKeys } from './keys.js'
export { canonicalBox, rasAffine } from './affine.js'
export { intensityRange } from './range.js'
export { intensityHistogram, histogramDistance, emd, chiSquare, bhattacharyya, intersection } from './histogram.js'
export { ncc, nmi, correlationRatio, similarity, prepareMeasure, isMeasureName, MEASURE_RANGES } from './measure.js'
export type { PreparedMeasure } from './measure.js'
export type { MeasureOptions } from './voxels.js'
export { Ranker, rankCandidates, defaultPrefilterKeep } from './rank.js'
export type { RankCandidate, RankOptions, RankHit, RankStats, Ranking } from './rank.js'
// Signed diagnosis records per LFN, stored at the master site (issue 8). Their two error
// classes (InvalidDiagnosisError, DiagnosisRefusedError) are imported from './diagnoses.js'.
export {
  createDiagnosis, openDiagnosis, DiagnosisStore, DIAGNOSIS_RECORD,
  DIAGNOSIS_MAX_AGE_MS, DIAGNOSIS_SKEW_MS, MAX_DIAGNOSES_PER_LFN, MAX_DIAGNOSIS_BYTES, MAX_DIAGNOSIS_CHARS
} from './diagnoses.js'
export type { Diagnosis, DiagnosisDb, DiagnosisFields, DiagnosisStoreInit } from './diagnoses.js'
