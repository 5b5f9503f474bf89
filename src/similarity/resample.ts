/**
 * The thumbnail: a volume resampled on a size³ grid spanning its canonical
 * box (affine.ts) with axes along R, A, S, so that any voxel ordering or
 * flip of the same acquisition gives the same thumbnail. Steps:
 *
 * 1. Block-average the source by an integer factor per voxel axis so its
 *    voxels are at most ~1/PREFILTER_RATIO of a thumbnail voxel along the
 *    patient axis they run along (blocks centred; a remainder of < factor
 *    voxels at the edges is left out).
 * 2. Each thumbnail voxel is the mean of s_x·s_y·s_z trilinear samples
 *    spread evenly over its extent, s = ⌈thumbnail step / source step⌉ per
 *    axis (≤ MAX_SUPERSAMPLE), i.e. close to a box filter: no aliasing of
 *    noise or thin structures, at a cost bounded by the grid.
 * 3. Points outside the acquired volume (the corners of an oblique one) take
 *    the low end of the intensity range (air, background).
 * 4. Intensities map to [0, 1] by min-max over the features' range, clamped:
 *    CT keeps its HU meaning, other modalities their robust percentiles.
 */
import { apply, canonicalBox, columnLength, invertAffine } from './affine.js'
import type { Affine3x4 } from './affine.js'
import { MAX_SUPERSAMPLE, PREFILTER_RATIO } from './constants.js'
import type { Rescale } from './range.js'
import type { VoxelArray } from './types.js'

export interface ThumbnailInput {
  data: VoxelArray
  dims: readonly [number, number, number]
  /** RAS 3×4, validated (affine.ts). */
  affine: Affine3x4
  rescale: Rescale
  range: readonly [number, number]
  size: number
}

export interface Thumbnail {
  thumbnail: Float32Array
  extent: [number, number, number]
  min: number
  max: number
}

interface Source {
  data: VoxelArray
  dims: readonly [number, number, number]
  /** Original index u → source index (u − offset[c]) / factor[c]. */
  factor: readonly [number, number, number]
  offset: readonly [number, number, number]
  /** Source value → physical. */
  slope: number
  intercept: number
}

/** Step 1: centred block means, as physical values. */
type Axis = 0 | 1 | 2
type Vec3 = [number, number, number]
const map3 = (f: (c: Axis) => number): Vec3 => [f(0), f(1), f(2)]

function reduce (data: VoxelArray, dims: readonly [number, number, number], f: readonly [number, number, number], rescale: Rescale): Source {
  const m = map3(c => Math.floor(dims[c] / f[c]))
  const first = map3(c => Math.floor((dims[c] - m[c] * f[c]) / 2))
  const lutOf = (c: Axis): Int32Array => {
    const t = new Int32Array(dims[c]).fill(-1)
    for (let r = 0; r < m[c]; r++) for (let q = 0; q < f[c]; q++) t[first[c] + r * f[c] + q] = r
    return t
  }
  const lut = [lutOf(0), lutOf(1), lutOf(2)] as const
  const [nx, ny, nz] = dims
  const sums = new Float32Array(m[0] * m[1] * m[2])
  for (let k = 0; k < nz; k++) {
    const rk = lut[2][k] as number
    if (rk < 0) continue
    for (let j = 0; j < ny; j++) {
      const rj = lut[1][j] as number
      if (rj < 0) continue
      const base = (rk * m[1] + rj) * m[0]
      const row = (k * ny + j) * nx
      for (let i = 0; i < nx; i++) {
        const ri = lut[0][i] as number
        if (ri >= 0) sums[base + ri] = (sums[base + ri] as number) + (data[row + i] as number)
      }
    }
  }
  const inv = 1 / (f[0] * f[1] * f[2])
  for (let v = 0; v < sums.length; v++) sums[v] = (sums[v] as number) * inv * rescale.slope + rescale.intercept
  // source index r covers original indices first + f·r … first + f·r + f − 1: centre first + f·r + (f − 1)/2
  const offset = map3(c => first[c] + (f[c] - 1) / 2)
  return { data: sums, dims: m, factor: f, offset, slope: 1, intercept: 0 }
}

/** Trilinear interpolation at a source index, clamped to the grid (edge voxels extend half a voxel). */
function sampler (s: Source): (x: number, y: number, z: number) => number {
  const [nx, ny, nz] = s.dims
  const d = s.data
  const { slope, intercept } = s
  const sx = nx - 1
  const sy = ny - 1
  const sz = nz - 1
  const plane = nx * ny
  return (x, y, z) => {
    x = x < 0 ? 0 : x > sx ? sx : x
    y = y < 0 ? 0 : y > sy ? sy : y
    z = z < 0 ? 0 : z > sz ? sz : z
    const x0 = Math.floor(x)
    const y0 = Math.floor(y)
    const z0 = Math.floor(z)
    const fx = x - x0
    const fy = y - y0
    const fz = z - z0
    const dx = x0 < sx ? 1 : 0
    const dy = y0 < sy ? nx : 0
    const dz = z0 < sz ? plane : 0
    const o = x0 + nx * y0 + plane * z0
    const c00 = (d[o] as number) * (1 - fx) + (d[o + dx] as number) * fx
    const c10 = (d[o + dy] as number) * (1 - fx) + (d[o + dy + dx] as number) * fx
    const c01 = (d[o + dz] as number) * (1 - fx) + (d[o + dz + dx] as number) * fx
    const c11 = (d[o + dz + dy] as number) * (1 - fx) + (d[o + dz + dy + dx] as number) * fx
    const c0 = c00 * (1 - fy) + c10 * fy
    const c1 = c01 * (1 - fy) + c11 * fy
    return (c0 * (1 - fz) + c1 * fz) * slope + intercept
  }
}

export function resampleThumbnail (input: ThumbnailInput): Thumbnail {
  const { data, dims, affine, rescale, range, size } = input
  const { origin, extent, axes } = canonicalBox(affine, dims)
  const step = map3(c => extent[c] / size)
  const spacing = map3(c => columnLength(affine, c))
  // per voxel axis: block factor from the thumbnail step along the patient axis it runs along
  const factor = map3(c => Math.max(1, Math.min(dims[c], Math.floor(step[axes[c]] / (PREFILTER_RATIO * spacing[c])))))
  const source: Source = factor.every(f => f === 1)
    ? { data, dims, factor, offset: [0, 0, 0], slope: rescale.slope, intercept: rescale.intercept }
    : reduce(data, dims, factor, rescale)
  // per patient axis: samples per thumbnail voxel from the (reduced) source spacing along it
  const sourceStep: Vec3 = [0, 0, 0]
  for (const c of [0, 1, 2] as const) sourceStep[axes[c]] = spacing[c] * factor[c]
  const ss = map3(a => Math.max(1, Math.min(MAX_SUPERSAMPLE, Math.ceil(step[a] / sourceStep[a]))))
  const inv = invertAffine(affine)
  const sample = sampler(source)
  const [ox, oy, oz] = source.offset
  const [fx, fy, fz] = source.factor
  const [lo, hi] = range
  const norm = 1 / (hi - lo)
  const [nx, ny, nz] = dims
  const out = new Float32Array(size * size * size)
  const u = new Float64Array(3)
  const samples = ss[0] * ss[1] * ss[2]
  let min = Infinity
  let max = -Infinity
  for (let z = 0; z < size; z++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let sum = 0
        for (let qz = 0; qz < ss[2]; qz++) {
          const pz = origin[2] + step[2] * (z + (qz + 0.5) / ss[2])
          for (let qy = 0; qy < ss[1]; qy++) {
            const py = origin[1] + step[1] * (y + (qy + 0.5) / ss[1])
            for (let qx = 0; qx < ss[0]; qx++) {
              const px = origin[0] + step[0] * (x + (qx + 0.5) / ss[0])
              apply(inv, px, py, pz, u)
              const ui = u[0] as number
              const uj = u[1] as number
              const uk = u[2] as number
              if (ui < -0.5 || ui > nx - 0.5 || uj < -0.5 || uj > ny - 0.5 || uk < -0.5 || uk > nz - 0.5) {
                sum += lo
              } else {
                sum += sample((ui - ox) / fx, (uj - oy) / fy, (uk - oz) / fz)
              }
            }
          }
        }
        let t = (sum / samples - lo) * norm
        t = Math.fround(t < 0 ? 0 : t > 1 ? 1 : t)
        out[x + size * (y + size * z)] = t
        if (t < min) min = t
        if (t > max) max = t
      }
    }
  }
  return { thumbnail: out, extent, min, max }
}
