/**
 * Defaults and limits of the node's caches, in one place. Options are resolved
 * against these with `??` (never `||`, which would eat an explicit `0`).
 */

const MiB = 1024 * 1024
const GiB = 1024 * MiB

/** Byte budget of the request-result layer (paper §4.4, "request caching"). */
export const DEFAULT_RESULT_BYTES = 64 * MiB
/** Byte budget of the assembled, encrypted image layer (paper §4.4, "image caching"). */
export const DEFAULT_IMAGE_BYTES = 8 * GiB
/** Byte budget of slice files (paper §4.4, "file caching"): the slices a node fetched from its PACS (src/node/cache-fills.ts). */
export const DEFAULT_SLICE_BYTES = 16 * GiB
/**
 * Byte budget of the copies of images fetched from other hospitals (sealed,
 * as their masters sent them): a layer of its own, so that copies never
 * evict the images this site masters, nor the other way round.
 */
export const DEFAULT_COPY_BYTES = 4 * GiB

/**
 * Results up to this size live inside LevelDB next to their index record
 * (one atomic batch, no file); larger ones become files on scratch space.
 */
export const DEFAULT_RESULT_INLINE_BYTES = 16 * 1024
/** Images and slices are always files: callers want a path (DICOM readers, chunk senders). */
export const DEFAULT_INLINE_BYTES = 0

/** Request results expire after this long unless the caller says otherwise; 0 = never. */
export const DEFAULT_RESULT_TTL_MS = 0

/** Longest store key, in UTF-8 bytes (keys are index keys in LevelDB). */
export const MAX_KEY_BYTES = 1024
/** Largest JSON metadata one entry may carry, in UTF-8 bytes. */
export const MAX_META_BYTES = 64 * 1024
/** Most files in one directory entry (an image's chunks plus its manifest). */
export const MAX_DIRECTORY_FILES = 300_000
/** Longest file name inside a directory entry. */
export const MAX_FILE_NAME_BYTES = 128

/** Longest LFN accepted as an image key (matches the payload's file-id limit). */
export const MAX_LFN_BYTES = 256
/** Longest SOP Instance UID (PS3.5 §9.1: at most 64 characters). */
export const MAX_UID_LENGTH = 64
/** Largest signed manifest read back from the image layer. */
export const MAX_MANIFEST_BYTES = 16 * MiB
/** Name of the manifest file inside an image entry; no chunk may use it. */
export const MANIFEST_FILE_NAME = 'manifest'

/** Longest requester scope id (a SAC scope: certificate id, user key id…). */
export const MAX_SCOPE_LENGTH = 512
/** Deepest nesting and largest canonical form of a query used as a cache key. */
export const MAX_QUERY_DEPTH = 32
export const MAX_QUERY_KEY_BYTES = 64 * 1024
/**
 * Most OR-terms a result's dependency set may have before it is widened to
 * "depends on everything" (dropped on any change): conservative and bounded.
 */
export const MAX_DEPENDENCY_TERMS = 64
/** Invalidations remembered to refuse results computed before them (see `ResultCache.epoch`). */
export const CHANGE_LOG_LENGTH = 256

/** Marker file telling `open()` a directory is a cache store it may sweep. */
export const STORE_MARKER_FILE = '.dm2-cache'
/** Prefix of in-flight files and directories; swept at `open()`. */
export const TEMP_PREFIX = '.tmp-'
/** Sub-directories and sublevels of the three layers under the node's cache root. */
export const RESULTS_NAME = 'results'
export const IMAGES_NAME = 'images'
export const SLICES_NAME = 'slices'
export const COPIES_NAME = 'copies'
