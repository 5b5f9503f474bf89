/**
 * Federated similarity ranking, `/dm2/similarity/1.0.0` (paper §2.3, §4.5):
 * the computation goes to the data. The requester sends the query volume's
 * features (never its identifying metadata) with one invocation and its
 * chain to each site; each site checks the invocation once (ability
 * `similarity`), ranks only the series the chain covers — the others are
 * counted, never loaded or scored — and that are comparable (same modality
 * and body region; a diagnosis if asked), with the histogram pre-filter then
 * the measure, and returns LFN, score, keys, and the diagnosis text only if
 * the chain grants `meta/read`. The requester merges the top K and lists the
 * sites that did not answer (`partial`).
 *
 * The one access check is made against the first series of the index the
 * chain covers (so any certificate resource — selector on owner, modality,
 * body part, date, study type, or one file — works); when none does, against
 * the pseudo-resource "this site's index" owned by its custodian. Every other
 * series is held to the same subject and per-link resource conditions
 * (coverage.ts), against the now verified links.
 *
 * `/dm2/annotate/1.0.0` (annotate.ts): a clinician attaches a signed
 * diagnosis record to an LFN at its master site (ability `annotate`).
 *
 * @example
 * ```ts
 * const libp2p = await createLibp2p({ …, services: {
 *   similarity: similarityRanking({ access, custodian, candidates: () => registry.similarityCandidates() }),
 *   annotate: diagnosisAnnotation({ access, diagnoses: store, resource: lfn => registry.descriptor(lfn) })
 * } })
 * const { results, partial } = await libp2p.services.similarity.rankFederation({
 *   sites, features: encodeFeatures(extractFeatures(volume)), measure: 'cr', topK: 10,
 *   auth: (peer, args) => wallet.authorization(chain, { audience: peer.toString(), origin, command: 'similarity', args })
 * })
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { similarityRanking } from './service.js'
export type { SimilarityRanking, SimilarityRankingComponents, SimilarityRankingInit, SimilarityServed } from './service.js'
export { rankFederation, mergeHits } from './federation.js'
export type { AskSite, FederatedHit, FederationQuery, FederationResult, SiteFailure, SiteFailureReason } from './federation.js'
export { chainCoverage } from './coverage.js'
export type { Coverage } from './coverage.js'
export { comparable, rankSite } from './site.js'
export type { Candidate, FeatureSource, SiteCounts } from './site.js'
export { checkQuery, decodeScore, encodeScore, parseHits, similarityArguments } from './wire.js'
export type { SimilarityQuery, SimilarityRequest, SiteHit } from './wire.js'
export { annotateArguments, diagnosisAnnotation } from './annotate.js'
export type { AnnotateRequest, Annotation, AnnotationComponents, AnnotationInit } from './annotate.js'
