/**
 * Protocol ids, limits and defaults of federated similarity ranking and of
 * annotation, in one place; options are resolved against these with `??`.
 */
import { MAX_DIAGNOSIS_BYTES } from '../../similarity/diagnoses.js'
import { MAX_BUNDLE_BYTES } from '../../sac/index.js'
import type { RpcLimits } from '../rpc.js'

export const SIMILARITY_PROTOCOL = '/dm2/similarity/1.0.0'
export const ANNOTATE_PROTOCOL = '/dm2/annotate/1.0.0'

/** Most results one site returns for one query (and the most a federation query merges). */
export const MAX_SITE_TOP_K = 100

/**
 * Largest encoded query features. A 64³ thumbnail quantized to uint16 (the
 * largest grid, ≈ 513 KiB) fits; a 64³ float32 one (≈ 1 MiB) does not, since
 * the request without `auth` is hashed into the invocation's arguments, and
 * canonical CBOR there is capped at 1 MiB (src/sac/invocation.ts).
 */
export const MAX_QUERY_FEATURES_BYTES = 768 * 1024

/** Longest LFN, diagnosis and key in a result (LFN: the access-control limit; keys: DICOM CS, PS3.5 §6.2). */
export const MAX_RESULT_LFN_LENGTH = 256
export const MAX_RESULT_KEY_LENGTH = 16

/**
 * A query carries its features and the authorization bundle; an answer at
 * most 100 results of ≤ 256-char LFNs and ≤ 2000-char diagnoses (≤ 6 KiB
 * of UTF-8 each).
 */
export const SIMILARITY_LIMITS: RpcLimits = {
  maxRequestBytes: MAX_QUERY_FEATURES_BYTES + MAX_BUNDLE_BYTES + 1024,
  maxResponseBytes: 1024 * 1024,
  timeoutMs: 30_000
}

export const ANNOTATE_LIMITS: RpcLimits = {
  maxRequestBytes: MAX_DIAGNOSIS_BYTES + MAX_BUNDLE_BYTES + 256,
  maxResponseBytes: 1024,
  timeoutMs: 10_000
}

/** Per-site answer deadline of a federation query, ms. */
export const DEFAULT_SITE_TIMEOUT_MS = 10_000

/** Queries a site ranks at once; more get BUSY (ranking is CPU-bound). */
export const DEFAULT_MAX_CONCURRENT_QUERIES = 2

/** Streams per protocol and connection direction. */
export const MAX_STREAMS = 8

/**
 * Candidates decoded and ranked together: bounds the memory of decoded
 * features (256 × 128 KiB for 32³) whatever the size of the index.
 */
export const DEFAULT_RANK_BATCH = 256

/** Content id of the pseudo-resource "this site's similarity index", for a check no series fits. */
export const SIMILARITY_INDEX_CONTENT_ID = 'dm2-similarity-index'

/** The commands invocations name. */
export const SIMILARITY_COMMAND = 'similarity'
export const ANNOTATE_COMMAND = 'annotate'
