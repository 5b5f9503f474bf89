/** Defaults and limits of the transaction engine, resolved once with `??`. */

/**
 * Queries (QUD transactions) running at once. Beyond this they wait in the
 * admission queue; the paper's communication daemon "manage[s] the load on
 * the engine ... queuing requests when needed to avoid system overflow" (§4.1).
 */
export const DEFAULT_MAX_CONCURRENT_QUERIES = 8

/** Queries waiting for a slot, FIFO. One more is refused with `BusyError`. */
export const DEFAULT_MAX_QUEUED_QUERIES = 64

/**
 * Requests in flight per external service (one pool per service key). The
 * paper's engine ran "6 DICOM RQD, having each one 3 concurrent processes" (§5).
 */
export const DEFAULT_POOL_CONCURRENCY = 3

/** Separates the prefix of a service key from its instance: `pacs:HOSPITAL_A`, `peer:<id>`. */
export const SERVICE_KEY_SEPARATOR = ':'

/** Largest JSON encoding of one compensation's data; journal records are decoded with this cap too. */
export const MAX_COMPENSATION_DATA_BYTES = 16 * 1024

/** Largest JSON encoding of a resumable query's input. */
export const MAX_RESUME_INPUT_BYTES = 64 * 1024

/** Largest journal record accepted when reading the journal back (record + envelope). */
export const MAX_JOURNAL_RECORD_BYTES = MAX_RESUME_INPUT_BYTES + 4 * 1024

/** Longest step, query, compensation or resumable kind name. */
export const MAX_NAME_LENGTH = 200

/** Compensation and resumable kinds: a dotted lower-case identifier such as `fs.rm` or `cache.del`. */
export const KIND_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/

/** Journal format version written in every record; older or newer records are reported, not guessed at. */
export const JOURNAL_VERSION = 1

/** Width of the zero-padded sequence number in journal entry keys (sorts lexicographically). */
export const JOURNAL_SEQ_WIDTH = 8

/** Log component name. */
export const LOG_COMPONENT = 'dm2:tx'
