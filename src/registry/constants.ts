/**
 * Defaults of the series registry, in one place.
 */

/** A series with no new instance for this long is registered (Orthanc calls this "stable age"). */
export const DEFAULT_QUIET_PERIOD_MS = 10_000
/** The site secret keying LFNs, in the node's data directory, mode 0600. */
export const SITE_SECRET_FILE_NAME = 'registry.key'
export const SITE_SECRET_BYTES = 32
/** Bytes of HMAC output in an LFN (160 bits: 32 base32 characters). */
export const LFN_BYTES = 20
/** Bytes of HMAC output in an instance key (128 bits: 32 hex characters). */
export const INSTANCE_KEY_BYTES = 16
/** Domain separation of the two keyed hashes. */
export const LFN_CONTEXT = 'dm2/lfn/v1'
export const INSTANCE_CONTEXT = 'dm2/instance/v1'
/** Longest cleaned series description kept as descriptive metadata. */
export const MAX_DESCRIPTION_LENGTH = 64
/** Longest string value stored for one attribute; longer values are cut. */
export const MAX_STORED_VALUE_CHARS = 1024
