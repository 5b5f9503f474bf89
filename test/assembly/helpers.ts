/** Test helpers: run dcm2niix, compare two NIfTI volumes in world space, find a Python with nibabel. */
import { spawnSync } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readNifti } from '../../src/assembly/index.js'
import type { NiftiImage } from '../../src/assembly/index.js'

export function run (tool: string, args: string[]): string {
  const res = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (res.error !== undefined) throw new Error(`${tool} could not run (is it installed?): ${res.error.message}`)
  if (res.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${String(res.status)}: ${res.stdout}${res.stderr}`)
  return res.stdout + res.stderr
}

/** dcm2niix's one NIfTI for a folder (uncompressed, no sidecar). */
export async function dcm2niix (dir: string, outDir: string): Promise<NiftiImage> {
  run('dcm2niix', ['-z', 'n', '-b', 'n', '-f', 'ref', '-o', outDir, dir])
  const made = (await readdir(outDir)).filter(f => f.startsWith('ref') && f.endsWith('.nii'))
  if (made.length !== 1) throw new Error(`dcm2niix wrote ${made.length} volumes: ${made.join(', ')}`)
  return readNifti(new Uint8Array(await readFile(join(outDir, made[0]!))))
}

/** 4×4 row-major inverse of an affine (last row 0 0 0 1). */
function invertAffine (m: number[]): number[] {
  const [a, b, c, tx, d, e, f, ty, g, h, i, tz] = m as [number, number, number, number, number, number, number, number, number, number, number, number]
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
  const inv = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det
  ] as [number, number, number, number, number, number, number, number, number]
  return [
    inv[0], inv[1], inv[2], -(inv[0] * tx + inv[1] * ty + inv[2] * tz),
    inv[3], inv[4], inv[5], -(inv[3] * tx + inv[4] * ty + inv[5] * tz),
    inv[6], inv[7], inv[8], -(inv[6] * tx + inv[7] * ty + inv[8] * tz),
    0, 0, 0, 1
  ]
}

const apply = (m: number[], v: number[]): number[] =>
  [0, 1, 2].map(r => m[4 * r]! * v[0]! + m[4 * r + 1]! * v[1]! + m[4 * r + 2]! * v[2]! + m[4 * r + 3]!)

export interface Comparison {
  /** Largest distance (mm) between where the two files put the same voxel, over the 8 corners. */
  maxCornerErrorMm: number
  /** For each of our axes: the reference axis it maps to, and the direction. */
  axes: Array<{ axis: number, flip: boolean }>
  voxels: number
  maxValueDifference: number
}

/**
 * Compares `mine` with `ref` in world space: the reference may permute or
 * flip axes (dcm2niix flips rows), so each of our voxels is mapped through
 * both sforms to the reference voxel at the same place, and values compared
 * after each file's scl_slope / scl_inter (and `refValueScale`, for a
 * scaling the reference leaves out, e.g. dcm2niix and DoseGridScaling).
 */
export function compareWorld (mine: NiftiImage, ref: NiftiImage, refValueScale = 1): Comparison {
  const m = inverseTimes(ref.sform, mine.sform)
  const axes = [0, 1, 2].map(col => {
    const column = [m[col]!, m[4 + col]!, m[8 + col]!]
    const axis = column.map(Math.abs).indexOf(Math.max(...column.map(Math.abs)))
    return { axis, flip: column[axis]! < 0 }
  })
  const md = mine.dims.slice(0, 3)
  const rd = ref.dims.slice(0, 3)
  if (new Set(axes.map(a => a.axis)).size !== 3) throw new Error('axes do not map one to one')
  axes.forEach((a, i) => { if (rd[a.axis] !== md[i]) throw new Error(`dimension ${i}: ${md[i]} vs reference ${rd[a.axis]}`) })
  // Integer index mapping: ref index = P · mine index + offset.
  const toRef = (idx: number[]): number[] => {
    const out = [0, 0, 0]
    axes.forEach((a, i) => { out[a.axis] = a.flip ? rd[a.axis]! - 1 - idx[i]! : idx[i]! })
    return out
  }
  let maxCornerErrorMm = 0
  for (let c = 0; c < 8; c++) {
    const idx = [c & 1 ? md[0]! - 1 : 0, c & 2 ? md[1]! - 1 : 0, c & 4 ? md[2]! - 1 : 0]
    const a = apply(mine.sform, idx)
    const b = apply(ref.sform, toRef(idx))
    maxCornerErrorMm = Math.max(maxCornerErrorMm, Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!))
  }
  const scale = (img: NiftiImage): [number, number] => img.sclSlope === 0 || Number.isNaN(img.sclSlope) ? [1, 0] : [img.sclSlope, img.sclInter]
  const [ms, mi] = scale(mine)
  const [rs, ri] = scale(ref)
  let maxValueDifference = 0
  for (let k = 0; k < md[2]!; k++) {
    for (let j = 0; j < md[1]!; j++) {
      for (let i = 0; i < md[0]!; i++) {
        const r = toRef([i, j, k])
        const mv = mine.data[i + md[0]! * (j + md[1]! * k)]! * ms + mi
        const rv = (ref.data[r[0]! + rd[0]! * (r[1]! + rd[1]! * r[2]!)]! * rs + ri) * refValueScale
        maxValueDifference = Math.max(maxValueDifference, Math.abs(mv - rv))
      }
    }
  }
  return { maxCornerErrorMm, axes, voxels: md[0]! * md[1]! * md[2]!, maxValueDifference }
}

function inverseTimes (a: number[], b: number[]): number[] {
  const inv = invertAffine(a)
  const out: number[] = []
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) out.push([0, 1, 2, 3].reduce((s, k) => s + inv[4 * r + k]! * b[4 * k + c]!, 0))
  }
  return out
}

let python: string | undefined
/** A python3 that imports nibabel (PATH first, then Debian's); throws if there is none. */
export function pythonWithNibabel (): string {
  if (python !== undefined) return python
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const res = spawnSync(candidate, ['-c', 'import nibabel'], { encoding: 'utf8' })
    if (res.status === 0) {
      python = candidate
      return candidate
    }
  }
  throw new Error('no python3 with nibabel found (install python3-nibabel)')
}
