/**
 * Defaults, limits and domain-separation labels of the encrypted payload,
 * in one place (resolved with `??` where they are options). Changing a label
 * changes the wire format: bump its `v1`.
 */

/** Plaintext bytes per chunk unless the caller chooses otherwise: 1 MiB. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024

/** Smallest and largest chunk size accepted, sealing or from a manifest. */
export const MIN_CHUNK_SIZE = 1
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024

/**
 * Most chunks one payload may have (256 GiB at 1 MiB chunks). Caps what a
 * manifest from another site can make us allocate, and keeps the chunk index
 * inside the 32-bit counter of the nonce.
 */
export const MAX_CHUNKS = 262_144

/** Largest encoded manifest accepted (about 45 bytes per chunk at MAX_CHUNKS). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024

/** Longest file id (LFN), de-identification profile id and master peer id, in UTF-8 bytes. */
export const MAX_FILE_ID_BYTES = 256
export const MAX_LABEL_BYTES = 128

/** AES-256-GCM: 32-byte key, 12-byte nonce, 16-byte tag (NIST SP 800-38D). */
export const DATA_KEY_BYTES = 32
export const NONCE_BYTES = 12
export const TAG_BYTES = 16
/** Random HKDF salt drawn for every sealing (RFC 5869 §3.1), carried in the manifest. */
export const SALT_BYTES = 32
/** SHA-256 output: chunk ids and the Merkle root. */
export const HASH_BYTES = 32

/**
 * Sealing: source pieces of at least this size go to the cipher as they are;
 * smaller ones are first gathered in a staging buffer of STAGE_BYTES (at most
 * one chunk), since a cipher call per small piece costs more than the copy.
 */
export const DIRECT_UPDATE_BYTES = 256 * 1024
export const STAGE_BYTES = 1024 * 1024

/**
 * Sealing hashes chunk ids on a worker thread (a second core) for payloads
 * of at least this many chunks of at least this size; smaller ones are not
 * worth the hand-over.
 */
export const HASH_WORKER_MIN_CHUNKS = 8
export const HASH_WORKER_MIN_CHUNK_BYTES = 256 * 1024
/**
 * Chunks the worker may have waiting before the sealing thread hashes the
 * next one itself: SHA-256 runs slower than AES-GCM on AES-NI/SHA-NI CPUs, so
 * the best split leaves some hashing on the sealing thread, and a busy second
 * core shifts more of it back automatically.
 */
export const HASH_WORKER_AHEAD = 2
/** Sealed chunks held at most while their ids are computed (memory: this many chunks). */
export const SEAL_AHEAD = 4

/** HKDF `info` label of the per-file chunk key (RFC 5869 §3.2). */
export const CHUNK_KEY_LABEL = 'dm2/payload/v1/chunk-key'
/** Prefix of every chunk's AEAD associated data. */
export const CHUNK_AAD_LABEL = 'dm2/payload/v1/chunk'
/** Context prepended to the manifest bytes before signing. */
export const MANIFEST_SIGNING_CONTEXT = 'dm2/manifest/v1'
/** HPKE `info` label for wrapping a data key (RFC 9180 §5.1). */
export const KEY_WRAP_LABEL = 'dm2/keywrap/v1'

/** Manifest format version written in every manifest. */
export const MANIFEST_VERSION = 1

/** HPKE wrapped key: enc (X25519 public key, 32) ‖ ciphertext (32-byte key + 16-byte tag). */
export const WRAPPED_KEY_BYTES = 32 + DATA_KEY_BYTES + TAG_BYTES

/** X25519 and Ed25519 raw key sizes (RFC 7748, RFC 8032). */
export const X25519_KEY_BYTES = 32
export const ED25519_PUBLIC_KEY_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64
