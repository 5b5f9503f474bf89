/**
 * Defaults of a node's similarity index, in one place; options are resolved
 * against these with `??`.
 */
import { MAX_ENCODED_FEATURES_BYTES } from '../../similarity/index.js'

/** Sublevel of the node's LevelDB holding the feature index (keyed by LFN). */
export const FEATURES_SUBLEVEL = 'features'
/** Sublevel holding the signed diagnoses of the series this site masters. */
export const DIAGNOSES_SUBLEVEL = 'diagnoses'

/** Format of the index's per-series metadata record. */
export const FEATURE_RECORD_VERSION = 1
/** Largest metadata record (a few short strings and numbers). */
export const MAX_FEATURE_META_BYTES = 1024
/** Largest stored features (the similarity codec's own limit). */
export const MAX_FEATURE_DATA_BYTES = MAX_ENCODED_FEATURES_BYTES

/**
 * Memory kept for decoded features, bytes. A 32³ float32 thumbnail plus its
 * histogram is ≈ 129 KiB, so 1 GiB holds ≈ 8,000 series: a site's whole
 * index in the common case, ranked without decoding anything (decoding
 * costs ≈ 1 ms a series). Beyond it the least recently used are decoded
 * again from LevelDB when a query needs them.
 */
export const DEFAULT_FEATURE_CACHE_BYTES = 1024 ** 3
/** Overhead counted per cached entry besides its typed arrays. */
export const FEATURE_ENTRY_OVERHEAD_BYTES = 512

/**
 * Candidates a site ranks together (the histogram pre-filter keeps the best
 * max(10·K, 200) of each batch). Features are held in memory already, so a
 * batch only pins, beyond the cache, those decoded on a cache miss: at most
 * 2,048 × 129 KiB ≈ 260 MiB per running query (and 2 queries run at once).
 */
export const DEFAULT_SITE_RANK_BATCH = 2048

/** Control-channel and API limits: LFNs per `similarity.index` call. */
export const MAX_INDEX_REQUEST_LFNS = 1000

/** The command an invocation names to use one of this site's series as a similarity query. */
export const QUERY_FEATURES_COMMAND = 'similarity/query-features'
