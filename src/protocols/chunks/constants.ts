/** Defaults of the chunk protocol, in one place. */

export const CHUNKS_PROTOCOL = '/dm2/chunks/1.0.0'

/** Largest chunk a peer may send: 1 MiB payload chunks + AEAD tag, with room for 4 MiB chunks. */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024 + 1024
/** Largest control frame (the request carries the invocation and the certificate chain). */
export const MAX_CONTROL_BYTES = 256 * 1024
/** Largest content id. */
export const MAX_CONTENT_ID_BYTES = 128
/** Most chunk indexes in one request. */
export const MAX_INDEXES_PER_REQUEST = 4096

/** Inbound/outbound streams of this protocol per connection. */
export const MAX_INBOUND_STREAMS = 16
export const MAX_OUTBOUND_STREAMS = 16
/** Requests served at once by a node; beyond that the answer is BUSY. */
export const MAX_CONCURRENT_SERVES = 32
/** Requests served at once to one peer. */
export const MAX_SERVES_PER_PEER = 8

/** Time allowed for one message (read or write). */
export const MESSAGE_TIMEOUT_MS = 10_000
/** A source that sends nothing for this long is stalled: its chunks go elsewhere. */
export const STALL_TIMEOUT_MS = 5_000

/** Chunks asked of a source at first; doubled while it answers fast, up to the maximum. */
export const INITIAL_BATCH = 4
/**
 * Batches in flight per source, each on its own stream: while one lane's
 * batch ends (its last window, the next request's round trip, the new
 * stream's window starting small again), the other's keeps the link busy.
 */
export const LANES_PER_SOURCE = 2
export const MAX_BATCH = 64
/** A source answering BUSY is asked again this many times, after BUSY_BACKOFF_MS, doubling up to BUSY_BACKOFF_MAX_MS (±50 %). */
export const BUSY_RETRIES = 8
export const BUSY_BACKOFF_MS = 50
export const BUSY_BACKOFF_MAX_MS = 2_000
/** A batch answered faster than this makes the next batch twice as large. */
export const FAST_BATCH_MS = 750

/** Read-side buffering: above yamux's largest window plus one frame, so a paused reader never overflows. */
export const MAX_READ_BUFFER_BYTES = 32 * 1024 * 1024
