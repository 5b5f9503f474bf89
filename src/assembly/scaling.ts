/**
 * Modality LUT (PS3.3 C.11.1: value = stored × RescaleSlope +
 * RescaleIntercept; RT Dose: stored × DoseGridScaling) and the NIfTI data
 * type it lands in. The documented choice:
 *
 * 1. no rescale anywhere (slope 1, intercept 0): stored values in their own
 *    type (uint8/int8/uint16/int16/uint32/int32), scl_slope 1, scl_inter 0;
 * 2. one integer slope and intercept for every frame: rescaled values are
 *    written as int16 when the whole declared stored range
 *    (BitsStored, PixelRepresentation) maps into int16, else uint16 when it
 *    fits that; if it fits neither, stored values are kept and the slope and
 *    intercept go into scl_slope / scl_inter instead (exact, and what
 *    dcm2niix writes);
 * 3. anything else (a non-integer slope or intercept, or frames that
 *    differ — e.g. per-frame Pixel Value Transformation, RT Dose scaling):
 *    float32 rescaled values, scl_slope 1, scl_inter 0.
 *
 * In every case value = voxel × scl_slope + scl_inter is the physical value.
 */
import type { FrameInfo, PixelFormat } from './header.js'
import type { StoredArray } from './pixels.js'

export type OutputType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32'
export type OutputArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array

export interface ScalingPlan {
  type: OutputType
  /** Apply each frame's own slope/intercept to the data. */
  applyRescale: boolean
  sclSlope: number
  sclInter: number
}

const RANGES: Record<Exclude<OutputType, 'float32'>, [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647]
}

export function storedType (f: PixelFormat): Exclude<OutputType, 'float32'> {
  const signed = f.pixelRepresentation === 1
  if (f.bitsAllocated <= 8) return signed ? 'int8' : 'uint8'
  if (f.bitsAllocated === 16) return signed ? 'int16' : 'uint16'
  return signed ? 'int32' : 'uint32'
}

function declaredRange (f: PixelFormat): [number, number] {
  const bits = f.bitsAllocated === 1 ? 1 : f.bitsStored
  return f.pixelRepresentation === 1 ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1]
}

const fits = (lo: number, hi: number, t: Exclude<OutputType, 'float32'>): boolean => lo >= RANGES[t][0] && hi <= RANGES[t][1]

export function scalingPlan (format: PixelFormat, frames: readonly FrameInfo[]): ScalingPlan {
  const slope = frames[0]?.slope ?? 1
  const intercept = frames[0]?.intercept ?? 0
  const uniform = frames.every(f => f.slope === slope && f.intercept === intercept)
  const stored = storedType(format)
  if (uniform && slope === 1 && intercept === 0) return { type: stored, applyRescale: false, sclSlope: 1, sclInter: 0 }
  if (uniform && Number.isInteger(slope) && Number.isInteger(intercept) && format.bitsAllocated <= 16) {
    const [lo, hi] = declaredRange(format)
    const a = lo * slope + intercept
    const b = hi * slope + intercept
    const [min, max] = a < b ? [a, b] : [b, a]
    if (fits(min, max, 'int16')) return { type: 'int16', applyRescale: true, sclSlope: 1, sclInter: 0 }
    if (fits(min, max, 'uint16')) return { type: 'uint16', applyRescale: true, sclSlope: 1, sclInter: 0 }
    return { type: stored, applyRescale: false, sclSlope: slope, sclInter: intercept }
  }
  return { type: 'float32', applyRescale: true, sclSlope: 1, sclInter: 0 }
}

export const BYTES: Record<OutputType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4 }

export function allocate (type: OutputType, n: number): OutputArray {
  switch (type) {
    case 'uint8': return new Uint8Array(n)
    case 'int8': return new Int8Array(n)
    case 'uint16': return new Uint16Array(n)
    case 'int16': return new Int16Array(n)
    case 'uint32': return new Uint32Array(n)
    case 'int32': return new Int32Array(n)
    case 'float32': return new Float32Array(n)
  }
}

/** Writes one frame's values into `out` (same length) under the plan. */
export function convertFrame (src: StoredArray, frame: FrameInfo, plan: ScalingPlan, out: OutputArray): void {
  if (!plan.applyRescale) {
    out.set(src)
    return
  }
  const { slope, intercept } = frame
  if (plan.type === 'float32') {
    for (let i = 0; i < src.length; i++) out[i] = (src[i] ?? 0) * slope + intercept
  } else if (slope === 1) {
    for (let i = 0; i < src.length; i++) out[i] = (src[i] ?? 0) + intercept
  } else {
    for (let i = 0; i < src.length; i++) out[i] = (src[i] ?? 0) * slope + intercept
  }
}
