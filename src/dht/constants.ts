/** Defaults of localization in the DHT, in one place. */

/** DHT key namespace of every DM² record: `/dm2/lfn/<lfn>`, `/dm2/site/<peer id>`. */
export const DHT_NAMESPACE = 'dm2'
/** Largest signed record accepted from the DHT. */
export const MAX_RECORD_BYTES = 16 * 1024
/** Largest LFN (an opaque id, never patient data). */
export const MAX_LFN_LENGTH = 128
/** How long a published record is valid. */
export const RECORD_VALIDITY_MS = 24 * 60 * 60 * 1000
/** Records are republished when less than this remains before expiry. */
export const REPUBLISH_BEFORE_EXPIRY_MS = 12 * 60 * 60 * 1000
/** How often the republisher checks what needs republishing. */
export const REPUBLISH_CHECK_MS = 10 * 60 * 1000
/** Successful lookups are cached this long. */
export const LOOKUP_CACHE_MS = 5_000
/** Entries in the lookup cache. */
export const LOOKUP_CACHE_SIZE = 1024
/** LFN records a node keeps from what it accepted, to name masters without a lookup (about 1 KiB each). */
export const KNOWN_RECORDS = 20_000
/** Default time allowed for one DHT lookup or publication. */
export const DHT_QUERY_TIMEOUT_MS = 15_000
/** Clock skew tolerated on a record's issue time. */
export const MAX_CLOCK_SKEW_MS = 60_000
/** Signature domains: a record signed for one use is never valid for another. */
export const LFN_RECORD_DOMAIN = 'dm2/dht/lfn-record/v1'
export const SITE_RECORD_DOMAIN = 'dm2/dht/site-record/v1'
/** Services a site can offer. */
export const SITE_SERVICES = ['metadata', 'storage', 'similarity', 'keys'] as const
