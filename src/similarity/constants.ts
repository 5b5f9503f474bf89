/**
 * Defaults and limits of content-based similarity, in one place. Options are
 * resolved against these with `??` (never `||`, which would eat a 0).
 */

/** Bins of the feature histogram (the pre-filter compares these). */
export const DEFAULT_HISTOGRAM_BINS = 64
export const MIN_HISTOGRAM_BINS = 8
export const MAX_HISTOGRAM_BINS = 256

/**
 * CT intensity range in Hounsfield units: air (-1000, with the usual -1024
 * floor of a 12-bit scanner) to the top of the 12-bit range (3071, dense
 * bone and contrast; metal saturates there). Fixed, so that HU keep their
 * meaning across sites: a CT histogram bin is a tissue class everywhere.
 */
export const CT_RANGE: readonly [number, number] = [-1024, 3071]

/**
 * Every other modality (MR, PT, US, XA, ...) has no calibrated unit: its
 * range is the volume's own robust percentiles, 0.5 % and 99.5 %, so that a
 * few hot voxels (vessels, artefacts) do not squash the histogram and a
 * global gain change leaves the features unchanged.
 */
export const ROBUST_PERCENTILES: readonly [number, number] = [0.5, 99.5]

/** Resolution of the fine histogram the percentiles are read from (no sort of the whole volume). */
export const PERCENTILE_BINS = 65_536

/** Edge of the canonical thumbnail grid (voxels per axis). */
export const DEFAULT_THUMBNAIL_SIZE = 32
export const MIN_THUMBNAIL_SIZE = 8
/** 64³ float32 = 1 MiB, the largest thumbnail we store or accept. */
export const MAX_THUMBNAIL_SIZE = 64

/**
 * Anti-aliasing of the thumbnail: the source is first block-averaged so its
 * voxels are at most about 1/PREFILTER_RATIO of a thumbnail voxel, then each
 * thumbnail voxel averages up to MAX_SUPERSAMPLE³ trilinear samples spread
 * over its extent: close to a box filter, at a cost bounded by the grid.
 */
export const PREFILTER_RATIO = 2
export const MAX_SUPERSAMPLE = 4

/** Largest input volume (voxels); the assembly module refuses > 2 GiB anyway. */
export const MAX_VOXELS = 2 ** 31 - 1
/** A voxel axis shorter than this (mm) makes a broken affine. */
export const MIN_SPACING_MM = 1e-6

/**
 * Bins of NMI's joint histogram and of the correlation ratio's X classes.
 * 16 × 16 joint cells for a 32³ thumbnail is ≈ 128 voxels a cell, which keeps
 * the small-sample bias of the entropy estimates low: with 32 or 64 bins NMI
 * let noise-only differences outweigh anatomy in the family tests (CR is
 * insensitive to the choice).
 */
export const DEFAULT_MEASURE_BINS = 16
export const MIN_MEASURE_BINS = 2
export const MAX_MEASURE_BINS = 256

/**
 * Pre-filter: keep the best max(PREFILTER_FACTOR × topK, PREFILTER_MIN)
 * candidates by histogram distance before scoring thumbnails.
 */
export const PREFILTER_FACTOR = 10
export const PREFILTER_MIN = 200
export const MAX_TOP_K = 10_000

/** Modality and body part are DICOM CS values (PS3.5 §6.2: ≤ 16 chars, A-Z 0-9 space _). */
export const MAX_KEY_LENGTH = 16

/** Binary feature encoding. */
export const FEATURES_MAGIC = 'DM2F'
export const FEATURES_VERSION = 1
/** Header + keys + a float32 histogram of MAX bins + a float32 thumbnail of MAX³ + CRC. */
export const MAX_ENCODED_FEATURES_BYTES = 64 + 2 * MAX_KEY_LENGTH + 4 * MAX_HISTOGRAM_BINS + 4 * MAX_THUMBNAIL_SIZE ** 3 + 4
/** A stored histogram must sum to 1 within this (float32 rounding of up to 256 bins). */
export const HISTOGRAM_SUM_TOLERANCE = 1e-3
