/** Defaults and fixed identifiers of the synthetic series generator. */

/** PS3.4 Annex B.5 storage SOP classes. */
export const SOP_CLASS = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  EnhancedCT: '1.2.840.10008.5.1.4.1.1.2.1',
  EnhancedMR: '1.2.840.10008.5.1.4.1.1.4.1'
} as const

/** PS3.5 Annex A transfer syntaxes the generator can write. */
export const TRANSFER_SYNTAX = {
  'explicit-le': '1.2.840.10008.1.2.1',
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-be': '1.2.840.10008.1.2.2',
  deflated: '1.2.840.10008.1.2.1.99',
  rle: '1.2.840.10008.1.2.5'
} as const
export type TransferSyntaxName = keyof typeof TRANSFER_SYNTAX

/** UID root of the generator's implementation class (PS3.5 §B.2, UUID-derived "2.25"). */
export const IMPLEMENTATION_CLASS_UID = '2.25.167917298616813393512476522154137419305'
export const IMPLEMENTATION_VERSION_NAME = 'DM2_SYNTH_1'

/**
 * Deliberately unequal rows/columns and pixel spacings, so that a transposed
 * or swapped axis in a reader shows up in tests.
 */
export const DEFAULT_ROWS = 40
export const DEFAULT_COLUMNS = 48
export const DEFAULT_SLICES = 12
export const DEFAULT_PIXEL_SPACING: readonly [number, number] = [0.8, 0.7]
export const DEFAULT_SLICE_SPACING = 2.5
export const DEFAULT_CENTER: readonly [number, number, number] = [12.5, -30, 85]
/** Oblique default: tilted 20° about the patient's x axis, then 15° about z. */
export const DEFAULT_OBLIQUE_DEGREES: readonly [number, number, number] = [20, 0, 15]
export const DEFAULT_CT_RESCALE = { slope: 1, intercept: -1024 } as const
export const DEFAULT_NOISE_SIGMA = 8

/** The paper's test series: 3 slices of 0.5 MB (512 × 512 × 16 bit). */
export const PAPER_SERIES = { rows: 512, columns: 512, slices: 3 } as const

/** Hard limits: a generator call never allocates more than this. */
export const MAX_DIMENSION = 4096
export const MAX_SLICES = 4096
export const MAX_TOTAL_BYTES = 2 * 1024 ** 3
