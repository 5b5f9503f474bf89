/**
 * A minimal NIfTI-1 reader (single file, little-endian, .nii or .nii.gz):
 * header fields and voxels as a typed array. Used to check our output and
 * dcm2niix's in tests; handy for consumers of assembled volumes.
 */
import { gunzipSync } from 'node:zlib'
import { InvalidNiftiError } from './errors.js'
import { NIFTI_DATATYPE } from './nifti.js'
import type { OutputArray, OutputType } from './scaling.js'

export interface NiftiImage {
  dims: number[]
  type: OutputType
  pixdim: number[]
  sclSlope: number
  sclInter: number
  xyztUnits: number
  qformCode: number
  sformCode: number
  quatern: [number, number, number]
  qoffset: [number, number, number]
  /** sform, row-major 4×4 (RAS). */
  sform: number[]
  voxOffset: number
  data: OutputArray
}

const TYPES = Object.fromEntries(Object.entries(NIFTI_DATATYPE).map(([k, v]) => [v, k])) as Record<number, OutputType>

export function readNifti (file: Uint8Array, name = 'nifti'): NiftiImage {
  const bytes = file[0] === 0x1f && file[1] === 0x8b ? new Uint8Array(gunzipSync(file)) : file
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 352 || v.getInt32(0, true) !== 348) throw new InvalidNiftiError(name, 'not a little-endian NIfTI-1 file')
  const f32 = (o: number): number => v.getFloat32(o, true)
  const ndim = v.getInt16(40, true)
  const dims = Array.from({ length: ndim }, (_, i) => v.getInt16(42 + 2 * i, true))
  const type = TYPES[v.getInt16(70, true)]
  if (type === undefined) throw new InvalidNiftiError(name, `unsupported NIfTI datatype ${v.getInt16(70, true)}`)
  const voxOffset = f32(108)
  const count = dims.reduce((a, b) => a * b, 1)
  const raw = bytes.slice(voxOffset, voxOffset + count * ({ uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4 })[type]).buffer
  const ctor = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array }[type]
  return {
    dims,
    type,
    pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
    sclSlope: f32(112),
    sclInter: f32(116),
    xyztUnits: bytes[123] ?? 0,
    qformCode: v.getInt16(252, true),
    sformCode: v.getInt16(254, true),
    quatern: [f32(256), f32(260), f32(264)],
    qoffset: [f32(268), f32(272), f32(276)],
    sform: [...Array.from({ length: 12 }, (_, i) => f32(280 + 4 * i)), 0, 0, 0, 1],
    voxOffset,
    data: new (ctor as unknown as new (b: ArrayBuffer) => OutputArray)(raw)
  }
}
