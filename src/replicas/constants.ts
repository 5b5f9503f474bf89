/** Defaults of the replica manager and `/dm2/replicate/1.0.0`, in one place. */

export const REPLICATE_PROTOCOL = '/dm2/replicate/1.0.0'

/** Replicas per LFN a master keeps on distinct storage sites (site policy `replicationFactor`). */
export const DEFAULT_REPLICATION_FACTOR = 2
/** A holder away for longer than this is replaced by a new replica elsewhere. */
export const DEFAULT_GRACE_MS = 5 * 60_000
/** How often the manager reconciles the replicas of the LFNs this site masters. */
export const DEFAULT_RECONCILE_MS = 60_000
/** Replications started at once by one manager. */
export const DEFAULT_CONCURRENCY = 2
/** A measured RTT is reused for this long before pinging again. */
export const RTT_CACHE_MS = 30_000
/** Time allowed to ping one candidate site. */
export const PING_TIMEOUT_MS = 3_000

/** A replication ticket (the chunk authorization of a replication) is valid this long. */
export const TICKET_VALIDITY_MS = 30 * 60_000
/** Largest encoded ticket. */
export const MAX_TICKET_BYTES = 1024
/** Domain separation of the ticket signature (a node key signs other messages too). */
export const TICKET_CONTEXT = 'dm2/replicate-ticket/v1'
/** Prefix that tells a ticket from a SAC authorization in a chunk request's `auth` field. */
export const TICKET_MAGIC = new TextEncoder().encode('DM2RT1')

/** Request/response limits: the request carries a signed manifest (≤ 1 MiB with 4096 chunks of 32-byte ids, far less in practice). */
export const REPLICATE_LIMITS = { maxRequestBytes: 2 * 1024 * 1024, maxResponseBytes: 4 * 1024, timeoutMs: 10 * 60_000 }
/** Inbound/outbound replicate streams per connection. */
export const REPLICATE_MAX_STREAMS = 4
/** Existing holders named in a request as extra chunk sources. */
export const MAX_EXTRA_SOURCES = 16
/** Largest LFN accepted. */
export const MAX_LFN_LENGTH = 128

/** File names inside a replica folder. */
export const MANIFEST_FILE = 'manifest.cbor'
export const STAGING_DIR = '.staging'
