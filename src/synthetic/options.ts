/**
 * Options of the generator and their resolution: every default is applied
 * here, once, with `??`, and every limit checked before anything is built.
 */
import {
  DEFAULT_CENTER, DEFAULT_COLUMNS, DEFAULT_CT_RESCALE, DEFAULT_NOISE_SIGMA, DEFAULT_PIXEL_SPACING, DEFAULT_ROWS,
  DEFAULT_SLICE_SPACING, DEFAULT_SLICES, MAX_DIMENSION, MAX_SLICES, MAX_TOTAL_BYTES, TRANSFER_SYNTAX
} from './constants.js'
import type { TransferSyntaxName } from './constants.js'
import { SyntheticOptionsError } from './errors.js'
import type { Orientation } from './geometry.js'
import type { FakeIdentity } from './identity.js'
import type { Seed } from './random.js'

export interface SeriesOptions {
  /** 'CT' (default) or 'MR'. */
  modality?: 'CT' | 'MR'
  rows?: number
  columns?: number
  /** Number of slices, evenly spaced by `sliceSpacing` (ignored when `sliceOffsets` is given). */
  slices?: number
  /** PixelSpacing: [between rows (along a column), between columns] in mm. */
  pixelSpacing?: readonly [number, number]
  /** True distance between adjacent slice centres, mm. */
  sliceSpacing?: number
  /** Explicit slice positions along the normal, mm, ascending (uneven spacing, gaps, duplicates). */
  sliceOffsets?: readonly number[]
  /** SliceThickness header; default the true spacing. */
  sliceThickness?: number
  /**
   * SpacingBetweenSlices header: a number is written as given (it may lie),
   * `false` omits it; default: MR writes the true spacing, CT omits it.
   */
  spacingBetweenSlices?: number | false
  orientation?: Orientation
  /** Centre of the stack in patient coordinates (LPS, mm). */
  center?: readonly [number, number, number]
  /**
   * How InstanceNumber (and, for multi-frame, frame order) relates to the
   * spatial order: 'ascending' (default), 'descending' or 'shuffled'.
   */
  instanceOrder?: 'ascending' | 'descending' | 'shuffled'
  /** Explicit InstanceNumber of each slice in spatial order (overrides instanceOrder). */
  instanceNumbers?: readonly number[]
  /** File names: '<instance>.dcm' (default) or '<sop uid>.dcm'. */
  fileNames?: 'instance' | 'uid'
  /** PixelRepresentation 1 (signed). Default: true for CT, false for MR. */
  signed?: boolean
  /** BitsStored (BitsAllocated is always 16). Default 16. */
  bitsStored?: number
  /** Rescale; CT default slope 1, intercept -1024; MR writes rescale only when given. */
  rescaleSlope?: number
  rescaleIntercept?: number
  /** Standard deviation of the Gaussian noise, in physical units (default 8). */
  noiseSigma?: number
  /** Physical values are multiplied by this (default 1). */
  intensityScale?: number
  /** Phantom shift in mm along (rows, columns, normal) of the volume. */
  shift?: readonly [number, number, number]
  /** Seed of the noise pattern; default `seed`, or 0. */
  noiseSeed?: Seed
  transferSyntax?: TransferSyntaxName
  /** One Enhanced CT/MR Image object with per-frame functional groups instead of one file per slice. */
  multiFrame?: boolean
  /** Makes UIDs and identity deterministic. Without it UIDs are random. */
  seed?: Seed
  identity?: Partial<FakeIdentity>
  studyInstanceUID?: string
  seriesInstanceUID?: string
  frameOfReferenceUID?: string
  seriesNumber?: number
  seriesDescription?: string
  /**
   * Attributes (dcmjs naturalized names) merged into the slice at spatial index i, for
   * malformed-series tests; a multi-frame object is called once, with 0.
   */
  override?: (spatialIndex: number) => Record<string, unknown> | undefined
}

export interface ResolvedOptions {
  modality: 'CT' | 'MR'
  rows: number
  columns: number
  pixelSpacing: readonly [number, number]
  offsets: number[]
  sliceSpacing: number
  sliceThickness: number
  spacingBetweenSlices: number | undefined
  orientation: Orientation
  center: readonly [number, number, number]
  instanceNumbers: number[] | 'ascending' | 'descending' | 'shuffled'
  fileNames: 'instance' | 'uid'
  signed: boolean
  bitsStored: number
  rescale: { slope: number, intercept: number } | undefined
  noiseSigma: number
  intensityScale: number
  shift: readonly [number, number, number]
  noiseSeed: Seed
  transferSyntax: TransferSyntaxName
  multiFrame: boolean
  seed: Seed | undefined
}

function positiveInt (name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new SyntheticOptionsError(name, `must be an integer in 1..${max}, got ${v}`)
  return v
}

function positive (name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new SyntheticOptionsError(name, `must be a positive number, got ${v}`)
  return v
}

export function resolveOptions (o: SeriesOptions): ResolvedOptions {
  const modality = o.modality ?? 'CT'
  if (modality !== 'CT' && modality !== 'MR') throw new SyntheticOptionsError('modality', `unsupported: ${String(modality)}`)
  const rows = positiveInt('rows', o.rows ?? DEFAULT_ROWS, MAX_DIMENSION)
  const columns = positiveInt('columns', o.columns ?? DEFAULT_COLUMNS, MAX_DIMENSION)
  const pixelSpacing = o.pixelSpacing ?? DEFAULT_PIXEL_SPACING
  pixelSpacing.forEach((s, i) => positive(`pixelSpacing[${i}]`, s))
  const sliceSpacing = positive('sliceSpacing', o.sliceSpacing ?? DEFAULT_SLICE_SPACING)
  let offsets: number[]
  if (o.sliceOffsets !== undefined) {
    offsets = [...o.sliceOffsets]
    positiveInt('sliceOffsets.length', offsets.length, MAX_SLICES)
    for (let i = 1; i < offsets.length; i++) {
      if (!((offsets[i] ?? 0) >= (offsets[i - 1] ?? 0))) throw new SyntheticOptionsError('sliceOffsets', 'must be ascending')
    }
  } else {
    const n = positiveInt('slices', o.slices ?? DEFAULT_SLICES, MAX_SLICES)
    offsets = Array.from({ length: n }, (_, k) => k * sliceSpacing)
  }
  if (rows * columns * 2 * offsets.length > MAX_TOTAL_BYTES) {
    throw new SyntheticOptionsError('slices', `series larger than ${MAX_TOTAL_BYTES} bytes`)
  }
  const signed = o.signed ?? modality === 'CT'
  const bitsStored = o.bitsStored ?? 16
  if (!Number.isInteger(bitsStored) || bitsStored < 8 || bitsStored > 16) {
    throw new SyntheticOptionsError('bitsStored', `must be 8..16, got ${bitsStored}`)
  }
  const ctRescale = modality === 'CT' ? DEFAULT_CT_RESCALE : undefined
  const slope = o.rescaleSlope ?? ctRescale?.slope
  const intercept = o.rescaleIntercept ?? ctRescale?.intercept
  const rescale = slope === undefined && intercept === undefined
    ? undefined
    : { slope: positive('rescaleSlope', slope ?? 1), intercept: intercept ?? 0 }
  const transferSyntax = o.transferSyntax ?? 'explicit-le'
  if (!(transferSyntax in TRANSFER_SYNTAX)) throw new SyntheticOptionsError('transferSyntax', `unknown: ${transferSyntax}`)
  const n = offsets.length
  if (o.instanceNumbers !== undefined && o.instanceNumbers.length !== n) {
    throw new SyntheticOptionsError('instanceNumbers', `needs ${n} values`)
  }
  const spacingHeader = o.spacingBetweenSlices ?? (modality === 'MR' ? sliceSpacing : false)
  return {
    modality,
    rows,
    columns,
    pixelSpacing,
    offsets,
    sliceSpacing,
    sliceThickness: positive('sliceThickness', o.sliceThickness ?? sliceSpacing),
    spacingBetweenSlices: spacingHeader === false ? undefined : spacingHeader,
    orientation: o.orientation ?? 'axial',
    center: o.center ?? DEFAULT_CENTER,
    instanceNumbers: o.instanceNumbers !== undefined ? [...o.instanceNumbers] : (o.instanceOrder ?? 'ascending'),
    fileNames: o.fileNames ?? 'instance',
    signed,
    bitsStored,
    rescale,
    noiseSigma: o.noiseSigma ?? DEFAULT_NOISE_SIGMA,
    intensityScale: o.intensityScale ?? 1,
    shift: o.shift ?? [0, 0, 0],
    noiseSeed: o.noiseSeed ?? o.seed ?? 0,
    transferSyntax,
    multiFrame: o.multiFrame ?? false,
    seed: o.seed
  }
}
