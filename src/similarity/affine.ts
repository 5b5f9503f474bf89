/**
 * Voxel ↔ patient geometry for the canonical grid. An affine is validated
 * once (finite, last row 0 0 0 1, non-degenerate), converted to RAS (LPS →
 * RAS negates x and y, as NIfTI does), and inverted to map canonical grid
 * points back to voxel indices.
 */
import { MIN_SPACING_MM } from './constants.js'
import { InvalidVolumeError } from './errors.js'
import type { PatientSpace } from './types.js'

/** Row-major 3×4 (the first three rows of the 4×4). */
export type Affine3x4 = Float64Array

/** Validates a 4×4 row-major affine and returns its RAS 3×4. */
export function rasAffine (affine: readonly number[], space: PatientSpace = 'RAS'): Affine3x4 {
  if (!Array.isArray(affine) && !ArrayBuffer.isView(affine)) throw new InvalidVolumeError('affine', 'not an array')
  if (affine.length !== 16) throw new InvalidVolumeError('affine', `expected 16 numbers, got ${affine.length}`)
  if (space !== 'RAS' && space !== 'LPS') throw new InvalidVolumeError('space', 'expected RAS or LPS')
  for (let i = 0; i < 16; i++) {
    if (!Number.isFinite(affine[i])) throw new InvalidVolumeError('affine', 'non-finite element')
  }
  const last = affine.slice(12, 16)
  if (last[0] !== 0 || last[1] !== 0 || last[2] !== 0 || last[3] !== 1) {
    throw new InvalidVolumeError('affine', 'last row must be 0 0 0 1')
  }
  const m = new Float64Array(12)
  for (let i = 0; i < 12; i++) m[i] = (space === 'LPS' && i < 8 ? -1 : 1) * (affine[i] as number)
  for (let c = 0; c < 3; c++) {
    if (!(columnLength(m, c) >= MIN_SPACING_MM)) throw new InvalidVolumeError('affine', `axis ${c} has no extent`)
  }
  const det = det3(m)
  const scale = columnLength(m, 0) * columnLength(m, 1) * columnLength(m, 2)
  if (!(Math.abs(det) > 1e-6 * scale)) throw new InvalidVolumeError('affine', 'axes are (nearly) coplanar')
  return m
}

export function columnLength (m: Affine3x4, c: number): number {
  return Math.hypot(m[c] as number, m[4 + c] as number, m[8 + c] as number)
}

function det3 (m: Affine3x4): number {
  const g = (i: number): number => m[i] as number
  return g(0) * (g(5) * g(10) - g(6) * g(9)) - g(1) * (g(4) * g(10) - g(6) * g(8)) + g(2) * (g(4) * g(9) - g(5) * g(8))
}

/** Inverse of a 3×4 affine (patient mm → voxel index). */
export function invertAffine (m: Affine3x4): Affine3x4 {
  const g = (i: number): number => m[i] as number
  const det = det3(m)
  const r = new Float64Array(12)
  r[0] = (g(5) * g(10) - g(6) * g(9)) / det
  r[1] = (g(2) * g(9) - g(1) * g(10)) / det
  r[2] = (g(1) * g(6) - g(2) * g(5)) / det
  r[4] = (g(6) * g(8) - g(4) * g(10)) / det
  r[5] = (g(0) * g(10) - g(2) * g(8)) / det
  r[6] = (g(2) * g(4) - g(0) * g(6)) / det
  r[8] = (g(4) * g(9) - g(5) * g(8)) / det
  r[9] = (g(1) * g(8) - g(0) * g(9)) / det
  r[10] = (g(0) * g(5) - g(1) * g(4)) / det
  for (let row = 0; row < 3; row++) {
    const o = 4 * row
    r[o + 3] = -((r[o] as number) * g(3) + (r[o + 1] as number) * g(7) + (r[o + 2] as number) * g(11))
  }
  return r
}

/** Applies a 3×4 affine to (x, y, z) into `out`. */
export function apply (m: Affine3x4, x: number, y: number, z: number, out: Float64Array): void {
  out[0] = (m[0] as number) * x + (m[1] as number) * y + (m[2] as number) * z + (m[3] as number)
  out[1] = (m[4] as number) * x + (m[5] as number) * y + (m[6] as number) * z + (m[7] as number)
  out[2] = (m[8] as number) * x + (m[9] as number) * y + (m[10] as number) * z + (m[11] as number)
}

const PERMUTATIONS: ReadonlyArray<readonly [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2]> = [
  [0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]
]

export interface CanonicalBox {
  /** RAS corner (mm) of the box: the outer edge, not a voxel centre. */
  origin: [number, number, number]
  /** Box size (mm) along R, A, S. */
  extent: [number, number, number]
  /** The patient axis (0 = R, 1 = A, 2 = S) each voxel axis i, j, k was assigned to. */
  axes: readonly [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2]
}

/**
 * The acquisition box (voxel edges, n·spacing per axis) turned to the nearest
 * RAS-aligned orientation about its centre. Each voxel axis goes to the patient
 * axis it is most aligned with (the permutation maximizing the summed |cosines|,
 * as nibabel's io_orientation), so for an axis-aligned acquisition in any
 * order and any flips this is exactly its bounding box, and an oblique one
 * keeps its physical size instead of growing to the bounding box of its
 * rotated corners (which would shrink the anatomy in the thumbnail).
 */
export function canonicalBox (m: Affine3x4, dims: readonly [number, number, number]): CanonicalBox {
  let best = PERMUTATIONS[0] as readonly [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2]
  let bestScore = -1
  for (const p of PERMUTATIONS) {
    // voxel axis c goes to patient axis p[c]; cosine = |m[p[c]][c]| / |column c|
    let s = 0
    for (let c = 0; c < 3; c++) s += Math.abs(m[4 * (p[c] as number) + c] as number) / columnLength(m, c)
    if (s > bestScore + 1e-12) { bestScore = s; best = p }
  }
  const centre = new Float64Array(3)
  apply(m, (dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2, centre)
  const extent: [number, number, number] = [0, 0, 0]
  for (const c of [0, 1, 2] as const) extent[best[c]] = dims[c] * columnLength(m, c)
  const origin: [number, number, number] = [
    (centre[0] as number) - extent[0] / 2,
    (centre[1] as number) - extent[1] / 2,
    (centre[2] as number) - extent[2] / 2
  ]
  return { origin, extent, axes: best }
}
