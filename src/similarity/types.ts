/** Shared types of content-based similarity. */

/** Voxel values as the assembly module produces them (or any other typed array of numbers). */
export type VoxelArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array

/** Which patient coordinate system an affine maps to: NIfTI RAS+ or DICOM LPS+ (PS3.3 C.7.6.2.1.1). */
export type PatientSpace = 'RAS' | 'LPS'

/** An assembled volume, as given to feature extraction. */
export interface VolumeInput {
  /** Voxels, i fastest, then j, then k (NIfTI order: column, row, slice). */
  data: VoxelArray
  /** [nx, ny, nz]. */
  dims: readonly [number, number, number]
  /**
   * Voxel (i, j, k) centre → patient mm, row-major 4×4 (16 numbers, last row
   * 0 0 0 1), as `srow_x/y/z` of a NIfTI sform. RAS by default: what
   * src/assembly writes; pass `space: 'LPS'` with `plan.geometry.affineLps`.
   */
  affine: readonly number[]
  space?: PatientSpace
  /** Stored → physical values (NIfTI scl_slope/scl_inter); default identity. */
  rescale?: { slope: number, intercept: number }
  /** DICOM Modality (0008,0060), e.g. 'CT', 'MR'. */
  modality: string
  /** DICOM BodyPartExamined (0018,0015), e.g. 'CHEST', 'HEART'; '' when unknown. */
  bodyPart?: string
}

/** Comparability keys: candidates are ranked only against a query with equal keys (by default). */
export interface FeatureKeys {
  /** Upper-case DICOM CS, e.g. 'CT'. */
  modality: string
  /** Upper-case DICOM CS, '' when unknown. */
  bodyPart: string
}

/** Descriptive features of one volume; nothing identifying. */
export interface Features {
  keys: FeatureKeys
  /** Normalized intensity histogram: `bins` values ≥ 0 summing to 1. */
  histogram: Float32Array
  /** Physical range [lo, hi] the histogram spans and the thumbnail is normalized by. */
  range: readonly [number, number]
  /** Edge of the thumbnail grid (voxels per axis). */
  size: number
  /**
   * size³ values in [0, 1] (min-max over `range`, clamped), index
   * x + size·(y + size·z) with x, y, z increasing along R, A, S.
   */
  thumbnail: Float32Array
  /** Physical size (mm) of the canonical box along R, A, S. */
  extent: readonly [number, number, number]
  /** Smallest and largest thumbnail value (derived; cached for the NMI binning). */
  thumbnailMin: number
  thumbnailMax: number
}

/**
 * Similarity measures on the canonical grid; higher = more similar.
 * - 'ncc': normalized cross-correlation, [-1, 1]
 * - 'nmi': Studholme's normalized mutual information, [1, 2]
 * - 'cr': Roche's correlation ratio η(candidate | query), [0, 1]
 */
export type MeasureName = 'ncc' | 'nmi' | 'cr'

/** Histogram distances of the pre-filter; 0 = identical, 1 = disjoint, lower = closer. */
export type HistogramDistanceName = 'emd' | 'chi2' | 'bhattacharyya' | 'intersection'
