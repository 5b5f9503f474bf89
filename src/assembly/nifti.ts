/**
 * NIfTI-1 header (nifti1.h, 348 bytes + a 4-byte empty extension flag),
 * little-endian. DICOM patient space is LPS, NIfTI world space is RAS: the
 * x and y rows of the affine are negated. Both sform and qform are set
 * (code 1, scanner anatomical); the qform is the rotation + voxel size part
 * (it cannot carry a shear, the sform can).
 */
import { NIFTI_HEADER_SIZE, NIFTI_VOX_OFFSET } from './constants.js'
import type { OutputType } from './scaling.js'
import { BYTES } from './scaling.js'
import type { Vec3 } from './vec.js'

export const NIFTI_DATATYPE: Record<OutputType, number> = {
  uint8: 2, int16: 4, int32: 8, float32: 16, int8: 256, uint16: 512, uint32: 768
}

/** NIFTI_UNITS_MM | NIFTI_UNITS_SEC, as dcm2niix writes. */
const XYZT_UNITS = 2 | 8
const NIFTI_XFORM_SCANNER_ANAT = 1

export interface NiftiHeaderInput {
  dims: [number, number, number]
  type: OutputType
  /** Voxel → LPS, row-major 4×4. */
  affineLps: number[]
  rowCosine: Vec3
  columnCosine: Vec3
  normal: Vec3
  pixdim: [number, number, number]
  sclSlope: number
  sclInter: number
  /** Repetition time in seconds (pixdim[4]); 0 when unknown. */
  tr?: number
  description?: string
}

/** LPS → RAS: negate the x and y rows. */
export function lpsToRas (affine: readonly number[]): number[] {
  return affine.map((v, i) => i < 8 ? -v : v)
}

/** Quaternion (b, c, d) and qfac of a rotation given by its columns (nifti1_io.c, nifti_mat44_to_quatern). */
export function quaternion (c1: Vec3, c2: Vec3, c3: Vec3): { b: number, c: number, d: number, qfac: number } {
  const [r11, r21, r31] = c1
  const [r12, r22, r32] = c2
  let [r13, r23, r33] = c3
  const det = r11 * r22 * r33 - r11 * r32 * r23 - r21 * r12 * r33 + r21 * r32 * r13 + r31 * r12 * r23 - r31 * r22 * r13
  let qfac = 1
  if (det < 0) {
    qfac = -1
    r13 = -r13
    r23 = -r23
    r33 = -r33
  }
  let a = r11 + r22 + r33 + 1
  let b: number, c: number, d: number
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a)
    b = 0.25 * (r32 - r23) / a
    c = 0.25 * (r13 - r31) / a
    d = 0.25 * (r21 - r12) / a
  } else {
    const xd = 1 + r11 - (r22 + r33)
    const yd = 1 + r22 - (r11 + r33)
    const zd = 1 + r33 - (r11 + r22)
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd)
      c = 0.25 * (r12 + r21) / b
      d = 0.25 * (r13 + r31) / b
      a = 0.25 * (r32 - r23) / b
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd)
      b = 0.25 * (r12 + r21) / c
      d = 0.25 * (r23 + r32) / c
      a = 0.25 * (r13 - r31) / c
    } else {
      d = 0.5 * Math.sqrt(zd)
      b = 0.25 * (r13 + r31) / d
      c = 0.25 * (r23 + r32) / d
      a = 0.25 * (r21 - r12) / d
    }
    if (a < 0) {
      b = -b
      c = -c
      d = -d
    }
  }
  return { b, c, d, qfac }
}

const toRas = (v: Vec3): Vec3 => [-v[0], -v[1], v[2]]

/** The next float32 after `x`, away from zero. */
function nextFloat32Away (x: number): number {
  const f = new Float32Array([x])
  const i = new Int32Array(f.buffer)
  i[0] = (i[0] ?? 0) + 1 // for a float32 bit pattern, +1 moves one ulp away from zero
  return f[0] ?? x
}

/**
 * Readers rebuild a = sqrt(1 − b² − c² − d²) from the stored float32 b, c, d.
 * For half-turn rotations (a ≈ 0, e.g. coronal and sagittal planes in RAS)
 * rounding leaves 1 − Σ ≈ 6e-8 and a ≈ 2.4e-4, a visible qform error; nudge
 * the largest component by float32 ulps so Σ reaches 1 and a is 0 again.
 */
export function storedQuaternion (q: { b: number, c: number, d: number }): [number, number, number] {
  const v = [q.b, q.c, q.d].map(x => Math.fround(x))
  if (1 - (q.b * q.b + q.c * q.c + q.d * q.d) > 1e-7) return v as [number, number, number]
  const big = v.map(Math.abs).indexOf(Math.max(...v.map(Math.abs)))
  for (let k = 0; k < 8 && v.reduce((s, x) => s + x * x, 0) < 1; k++) v[big] = nextFloat32Away(v[big] ?? 0)
  return v as [number, number, number]
}

/** The 352 bytes before the voxel data. */
export function niftiHeader (h: NiftiHeaderInput): Uint8Array {
  const buf = new Uint8Array(NIFTI_VOX_OFFSET)
  const v = new DataView(buf.buffer)
  const ascii = (offset: number, text: string, max: number): void => {
    for (let i = 0; i < Math.min(text.length, max - 1); i++) buf[offset + i] = text.charCodeAt(i) & 0x7f
  }
  v.setInt32(0, NIFTI_HEADER_SIZE, true)
  buf[38] = 'r'.charCodeAt(0)
  const dims = [3, h.dims[0], h.dims[1], h.dims[2], 1, 1, 1, 1]
  dims.forEach((d, i) => v.setInt16(40 + 2 * i, d, true))
  v.setInt16(70, NIFTI_DATATYPE[h.type], true)
  v.setInt16(72, BYTES[h.type] * 8, true)
  const q = quaternion(toRas(h.rowCosine), toRas(h.columnCosine), toRas(h.normal))
  const pixdim = [q.qfac, h.pixdim[0], h.pixdim[1], h.pixdim[2], h.tr ?? 0, 0, 0, 0]
  pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, true))
  v.setFloat32(108, NIFTI_VOX_OFFSET, true)
  v.setFloat32(112, h.sclSlope, true)
  v.setFloat32(116, h.sclInter, true)
  buf[123] = XYZT_UNITS
  ascii(148, h.description ?? 'dm2 assemble', 80)
  const ras = lpsToRas(h.affineLps)
  v.setInt16(252, NIFTI_XFORM_SCANNER_ANAT, true)
  v.setInt16(254, NIFTI_XFORM_SCANNER_ANAT, true)
  const [qb, qc, qd] = storedQuaternion(q)
  v.setFloat32(256, qb, true)
  v.setFloat32(260, qc, true)
  v.setFloat32(264, qd, true)
  v.setFloat32(268, ras[3] ?? 0, true)
  v.setFloat32(272, ras[7] ?? 0, true)
  v.setFloat32(276, ras[11] ?? 0, true)
  for (let i = 0; i < 12; i++) v.setFloat32(280 + 4 * i, ras[i] ?? 0, true)
  ascii(344, 'n+1', 4)
  return buf
}
