/**
 * Every limit and default of the access-control core, in one place. Options
 * that take one of these are resolved once with `??`.
 */

/** A delegation chain has at most this many certificates, root included (issue 5). */
export const MAX_CHAIN_LENGTH = 5
/** The root's remaining delegation depth can therefore be at most 4. */
export const MAX_DELEGATION_DEPTH = MAX_CHAIN_LENGTH - 1

/** Tolerated clock difference between nodes, both ways. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000
/** An invocation lives at most this long (expiry − issuedAt). */
export const MAX_INVOCATION_LIFETIME_S = 120
/** Invocation lifetime the builder uses when none is given. */
export const DEFAULT_INVOCATION_LIFETIME_S = 60
/** Group membership certificates are short-lived: at most a day. */
export const DEFAULT_MAX_MEMBERSHIP_LIFETIME_S = 86_400

/** Envelopes larger than this are refused before decoding, whatever their type. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024
/** Per-type caps (a certificate or an invocation is a few hundred bytes). */
export const MAX_SAC_BYTES = 4096
export const MAX_MEMBERSHIP_BYTES = 1024
export const MAX_INVOCATION_BYTES = 1024
export const MAX_REVOCATION_BYTES = 1024
export const MAX_ROSTER_BYTES = 64 * 1024
export const MAX_DHT_RECORD_BYTES = 16 * 1024
export const MAX_MANIFEST_BYTES = 1024 * 1024
/** Deepest nesting of arrays/maps accepted in a payload. */
export const MAX_CBOR_DEPTH = 16
/** An authorization bundle (invocation + chain + memberships) on the wire. */
export const MAX_BUNDLE_BYTES = 2 * MAX_INVOCATION_BYTES + MAX_CHAIN_LENGTH * (MAX_SAC_BYTES + MAX_MEMBERSHIP_BYTES)

export const KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
export const ID_BYTES = 32
export const NONCE_BYTES = 16

/** Strings inside certificates. */
export const MAX_PURPOSE_LENGTH = 64
export const MAX_GROUP_NAME_LENGTH = 64
export const MAX_CONTENT_ID_LENGTH = 128
export const MAX_PEER_ID_LENGTH = 128
export const MAX_COMMAND_LENGTH = 64
export const MAX_LFN_LENGTH = 256
/** Values per selector field (modalities, body parts, …). */
export const MAX_SELECTOR_VALUES = 32

/** Verified certificates kept by id (see cache.ts). */
export const DEFAULT_CERT_CACHE_SIZE = 10_000
/** Imported Ed25519 public keys kept (node:crypto KeyObjects). */
export const DEFAULT_KEY_CACHE_SIZE = 4096
/** Invocation ids remembered at once; beyond that, new invocations are refused (never forgotten early). */
export const DEFAULT_REPLAY_CACHE_SIZE = 100_000
