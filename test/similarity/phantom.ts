/**
 * Test phantoms defined in patient space (RAS mm): a body ellipsoid and
 * inclusions with their own values, sampled on any acquisition grid (any
 * voxel order, flips, obliquity), with seeded noise, gain/offset and shift.
 */
import type { VolumeInput } from '../../src/similarity/index.js'

export type Vec3 = [number, number, number]

export interface Blob { centre: Vec3, radii: Vec3, value: number }
export interface Phantom { background: number, blobs: Blob[] }

export interface Acquisition {
  dims: Vec3
  /** Direction (unit) and spacing (mm) of each voxel axis, as the affine's columns. */
  columns: [Vec3, Vec3, Vec3]
  /** Patient position of the volume's centre. */
  centre?: Vec3
}

export interface Variant {
  noiseSigma?: number
  noiseSeed?: number
  gain?: number
  offset?: number
  shift?: Vec3
}

/** mulberry32: small seeded PRNG, uniform in [0, 1). */
export function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function gaussian (rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
}

/** A row-major 4×4 whose voxel (i, j, k) centres are centred on `centre`. */
export function affineOf (a: Acquisition): number[] {
  const [c0, c1, c2] = a.columns
  const centre = a.centre ?? [0, 0, 0]
  const half = a.dims.map(n => (n - 1) / 2) as Vec3
  const t = [0, 1, 2].map(r => centre[r]! - c0[r]! * half[0] - c1[r]! * half[1] - c2[r]! * half[2])
  return [
    c0[0], c1[0], c2[0], t[0]!,
    c0[1], c1[1], c2[1], t[1]!,
    c0[2], c1[2], c2[2], t[2]!,
    0, 0, 0, 1
  ]
}

export function valueAt (p: Phantom, x: number, y: number, z: number): number {
  let v = p.background
  for (const b of p.blobs) {
    const dx = (x - b.centre[0]) / b.radii[0]
    const dy = (y - b.centre[1]) / b.radii[1]
    const dz = (z - b.centre[2]) / b.radii[2]
    if (dx * dx + dy * dy + dz * dz <= 1) v = b.value
  }
  return v
}

/** The phantom sampled at voxel centres, as Float32 physical values. */
export function acquire (p: Phantom, a: Acquisition, variant: Variant = {}): { data: Float32Array, affine: number[] } {
  const affine = affineOf(a)
  const [nx, ny, nz] = a.dims
  const data = new Float32Array(nx * ny * nz)
  const noise = gaussian(random(variant.noiseSeed ?? 1))
  const sigma = variant.noiseSigma ?? 0
  const gain = variant.gain ?? 1
  const offset = variant.offset ?? 0
  const [sx, sy, sz] = variant.shift ?? [0, 0, 0]
  const m = affine
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!
        const y = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!
        const z = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!
        const v = valueAt(p, x - sx, y - sy, z - sz) * gain + offset
        data[n++] = sigma > 0 ? v + sigma * noise() : v
      }
    }
  }
  return { data, affine }
}

/** Axis-aligned acquisition, i along R, j along A, k along S. */
export function axial (dims: Vec3, spacing: Vec3): Acquisition {
  return { dims, columns: [[spacing[0], 0, 0], [0, spacing[1], 0], [0, 0, spacing[2]]] }
}

/**
 * A random phantom: a CT-like body (its size, shape and position vary as
 * between patients; `shape` fixes its radii) with three to five inclusions
 * of fat, organ, bone or air, inside a ±45 mm box.
 */
export function randomPhantom (seed: number, shape?: Vec3): Phantom {
  const r = random(seed)
  const u = (lo: number, hi: number): number => lo + (hi - lo) * r()
  const radii: Vec3 = [u(22, 38), u(18, 34), u(24, 38)]
  const body: Blob = { centre: [u(-6, 6), u(-6, 6), u(-4, 4)], radii: shape ?? radii, value: u(20, 60) }
  const blobs: Blob[] = [body]
  const count = 3 + Math.floor(r() * 3)
  for (let b = 0; b < count; b++) {
    blobs.push({
      centre: [0, 1, 2].map(a => body.centre[a]! + u(-0.5, 0.5) * body.radii[a]!) as Vec3,
      radii: [u(5, 14), u(5, 14), u(5, 14)],
      value: [u(-300, -100), u(150, 300), u(600, 1200), u(-900, -600)][Math.floor(r() * 4)]!
    })
  }
  return { background: -1000, blobs }
}

export function ctVolume (p: Phantom, a: Acquisition, variant: Variant = {}, bodyPart = 'CHEST'): VolumeInput {
  const { data, affine } = acquire(p, a, variant)
  return { data, dims: a.dims, affine, modality: 'CT', bodyPart }
}

/** Body radii of the family bases: five distinct anatomies. */
export const BASE_SHAPES: readonly Vec3[] = [[36, 24, 30], [26, 32, 36], [30, 20, 24], [22, 26, 26], [38, 32, 38]]

/** The eight transformations of a base in a family: noise, intensity scaling, small shifts, and mixes. */
export const FAMILY_VARIANTS: readonly Variant[] = [
  { noiseSigma: 20 },
  { noiseSigma: 40 },
  { gain: 1.1, noiseSigma: 10 },
  { gain: 0.9, offset: 20 },
  { shift: [2, 0, 0] },
  { shift: [0, -2, 1] },
  { noiseSigma: 30, shift: [-1.5, 1.5, 0] },
  { gain: 1.05, shift: [0, 0, -2], noiseSigma: 15 }
]
