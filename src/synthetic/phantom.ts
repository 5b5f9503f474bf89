/**
 * Deterministic pixel content: an ellipsoid "body" with three off-centre
 * inclusions (asymmetric along every axis, so a flipped or transposed axis
 * changes the volume), plus seeded Gaussian noise that depends only on the
 * voxel index. Coordinates are mm in the volume's own axes (u along rows,
 * v along columns, w along the slice normal) relative to the stack centre.
 */
import { gaussianAt } from './random.js'

export interface Tissues { background: number, body: number, organ: number, lesion: number, bone: number }

/** Physical values: Hounsfield units for CT, arbitrary signal for MR. */
export const CT_TISSUES: Tissues = { background: -1000, body: 40, organ: 180, lesion: -90, bone: 900 }
export const MR_TISSUES: Tissues = { background: 0, body: 420, organ: 760, lesion: 150, bone: 1100 }

export interface PhantomParams {
  tissues: Tissues
  /** Half-extents of the field of view in mm (u, v, w). */
  half: readonly [number, number, number]
  /** Shift of the phantom, mm in (u, v, w). */
  shift: readonly [number, number, number]
  /** Physical values are multiplied by this. */
  scale: number
  noiseSigma: number
  noiseKey: number
}

function inside (u: number, v: number, w: number, c: readonly number[], r: readonly number[]): boolean {
  const du = (u - (c[0] ?? 0)) / (r[0] ?? 1)
  const dv = (v - (c[1] ?? 0)) / (r[1] ?? 1)
  const dw = (w - (c[2] ?? 0)) / (r[2] ?? 1)
  return du * du + dv * dv + dw * dw <= 1
}

/** Noise-free physical value at (u, v, w). */
export function phantomValue (p: PhantomParams, u: number, v: number, w: number): number {
  const [hu, hv, hw] = p.half
  // A single slice has no extent along w: treat it as the central plane.
  const ew = hw > 0 ? hw : 1
  u -= p.shift[0]
  v -= p.shift[1]
  w -= p.shift[2]
  const t = p.tissues
  if (!inside(u, v, w, [0, 0, 0], [0.85 * hu, 0.75 * hv, 1.2 * ew])) return t.background
  if (inside(u, v, w, [0.05 * hu, 0.45 * hv, -0.1 * ew], [0.12 * hu, 0.12 * hv, 0.9 * ew])) return t.bone
  if (inside(u, v, w, [0.3 * hu, -0.2 * hv, 0.25 * ew], [0.3 * hu, 0.25 * hv, 0.5 * ew])) return t.organ
  if (inside(u, v, w, [-0.35 * hu, 0.1 * hv, -0.3 * ew], [0.15 * hu, 0.15 * hv, 0.4 * ew])) return t.lesion
  return t.body
}

/** Physical value of voxel (i, j, k) at (u, v, w), with scaling and noise. */
export function voxelValue (p: PhantomParams, i: number, j: number, k: number, u: number, v: number, w: number): number {
  const clean = phantomValue(p, u, v, w) * p.scale
  return p.noiseSigma > 0 ? clean + p.noiseSigma * gaussianAt(p.noiseKey, i, j, k) : clean
}
