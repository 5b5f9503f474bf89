/** Defaults and limits of volume assembly; every option falls back to these with `??`. */

/**
 * Two slices whose positions along the normal differ by less than this
 * (mm) are "the same position" (DuplicatePositionError). DS values carry
 * about 1e-5 mm of rounding, real slice steps are ≥ 0.1 mm.
 */
export const DEFAULT_DUPLICATE_TOLERANCE_MM = 0.01

/**
 * A gap between adjacent slices is "even" when it differs from the series
 * step by at most this fraction of the step (or DEFAULT_SPACING_TOLERANCE_MM,
 * whichever is larger). Beyond it: a multiple of the step is a missing
 * slice (error), anything else is uneven spacing (warning).
 */
export const DEFAULT_SPACING_TOLERANCE = 0.01
export const DEFAULT_SPACING_TOLERANCE_MM = 0.001

/** Direction cosines / pixel spacings of two slices "agree" within this. */
export const DEFAULT_ORIENTATION_TOLERANCE = 1e-4
export const DEFAULT_PIXEL_SPACING_TOLERANCE = 1e-4

/** In-plane drift of slice origins (mm) beyond which a stack is reported as sheared (gantry tilt). */
export const DEFAULT_SHEAR_TOLERANCE_MM = 0.01

/**
 * zlib level of .nii.gz output: 1 is about 5× faster than the usual 6 on CT
 * volumes for about 4 % more bytes (measured 106 vs 23 MiB/s, ratio 0.451 vs
 * 0.434), and the volume is usually encrypted and shipped right after.
 */
export const DEFAULT_GZIP_LEVEL = 1

/** Hard limits on anything decoded from outside. */
export const MAX_OBJECT_BYTES = 1024 ** 3
/** Frames per object, and per series. */
export const MAX_FRAMES = 32_767
/** NIfTI-1 stores dim[] as int16. */
export const MAX_NIFTI_DIM = 32_767
export const MAX_VOLUME_BYTES = 2 * 1024 ** 3 - 1
export const MAX_SOURCES = 100_000

/** NIfTI-1 (nifti1.h): header size, and data offset with an empty extension flag. */
export const NIFTI_HEADER_SIZE = 348
export const NIFTI_VOX_OFFSET = 352
