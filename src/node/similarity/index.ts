/**
 * Content-based similarity at a hospital node (paper §2.3, §4.5; DM² issue 8):
 * features computed at ingest and kept in a LevelDB-backed index, decoded in
 * memory (bounded, LRU) for ranking; the `/dm2/similarity/1.0.0` and
 * `/dm2/annotate/1.0.0` services wired to the data plane's audited access
 * control; diagnoses kept at the master site; `similarity.index` and
 * `similarity.status` control commands.
 *
 * @example
 * ```ts
 * const node = createHospitalNode(config)
 * await node.start()
 * await node.similarity.indexer.enqueue(lfn, { fetch: true })   // or: dm2 features index <lfn>
 * console.log(node.similarity.stats())                          // { series, cached, cachedBytes, … }
 * for await (const c of node.similarity.index.candidates()) console.log(c.lfn, c.modality, c.bodyPart)
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { FeatureIndex } from './feature-index.js'
export type { FeatureDb, FeatureIndexInit, FeatureIndexStats, IndexedSeries } from './feature-index.js'
export { FeatureIndexer } from './indexer.js'
export type { IndexerInit, IndexOutcome, IndexStatus } from './indexer.js'
export { NodeSimilarity, queryFeaturesArguments } from './node-similarity.js'
export type { NodeSimilarityInit, ServedTotals, SimilarityOptions } from './node-similarity.js'
