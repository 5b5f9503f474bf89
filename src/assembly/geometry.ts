/**
 * Pure geometry of a stack of frames: consistency checks, order along the
 * slice normal, the slice step measured from positions, and the voxel →
 * patient (LPS) affine.
 *
 * Order comes from each frame's ImagePositionPatient projected on the normal
 * (row cosine × column cosine, PS3.3 C.7.6.2.1.1), never from InstanceNumber
 * or file names. The step comes from the positions too; SliceThickness and
 * SpacingBetweenSlices are only used for a single slice, where there is
 * nothing to measure.
 *
 * Documented choices:
 * - a gap that is a whole multiple (≥ 2) of the step is a missing slice:
 *   MissingSliceError, nothing is written;
 * - other gaps off the step by more than the tolerance: a warning
 *   ('uneven-spacing'), and the volume is written unresampled with the mean
 *   step (first to last position / (n − 1)), so the first and last slices
 *   are placed exactly (dcm2niix does the same, with a warning);
 * - origins drifting in-plane (gantry tilt): a warning ('sheared-stack');
 *   the sform keeps the true (sheared) slice vector, the qform cannot.
 */
import {
  DEFAULT_DUPLICATE_TOLERANCE_MM, DEFAULT_ORIENTATION_TOLERANCE, DEFAULT_PIXEL_SPACING_TOLERANCE,
  DEFAULT_SHEAR_TOLERANCE_MM, DEFAULT_SPACING_TOLERANCE, DEFAULT_SPACING_TOLERANCE_MM
} from './constants.js'
import { DuplicatePositionError, MissingSliceError, MixedOrientationError, MixedSizeError } from './errors.js'
import type { FrameInfo } from './header.js'
import { cross, dot, norm, normalize, scale, sub } from './vec.js'
import type { Vec3 } from './vec.js'

export interface GeometryOptions {
  spacingTolerance?: number
  duplicateToleranceMm?: number
  orientationTolerance?: number
  shearToleranceMm?: number
}

export interface Warning {
  code: 'uneven-spacing' | 'sheared-stack' | 'single-slice' | 'skipped-object' | 'monochrome1' | 'frame-count-mismatch'
  message: string
}

export interface StackGeometry {
  /** Frames sorted along the normal (ascending). */
  order: FrameInfo[]
  rowCosine: Vec3
  columnCosine: Vec3
  normal: Vec3
  pixelSpacing: [number, number]
  /** Distance between slices along the normal (mm): mean of the measured gaps. */
  step: number
  /** Vector from one slice origin to the next (LPS, mm); equals step × normal unless sheared. */
  sliceVector: Vec3
  /** Voxel (i = column, j = row, k = slice) → LPS mm, row-major 4×4. */
  affineLps: number[]
  /** Measured gaps along the normal between consecutive slices. */
  gaps: number[]
  warnings: Warning[]
}

function describe (v: readonly number[]): string {
  return `[${v.map(x => Number(x.toFixed(6))).join(', ')}]`
}

export function stackGeometry (
  frames: FrameInfo[],
  nameOf: (f: FrameInfo) => string,
  fallbackStep: number | undefined,
  options: GeometryOptions = {}
): StackGeometry {
  const tolO = options.orientationTolerance ?? DEFAULT_ORIENTATION_TOLERANCE
  const tolDup = options.duplicateToleranceMm ?? DEFAULT_DUPLICATE_TOLERANCE_MM
  const tolSpacing = options.spacingTolerance ?? DEFAULT_SPACING_TOLERANCE
  const tolShear = options.shearToleranceMm ?? DEFAULT_SHEAR_TOLERANCE_MM
  const ref = frames[0]
  if (ref === undefined) throw new RangeError('stackGeometry needs at least one frame')
  for (const f of frames) {
    if (f.orientation.some((v, i) => Math.abs(v - (ref.orientation[i] ?? 0)) > tolO)) {
      throw new MixedOrientationError('ImageOrientationPatient', describe(ref.orientation), describe(f.orientation), nameOf(f))
    }
    if (f.pixelSpacing.some((v, i) => Math.abs(v - (ref.pixelSpacing[i] ?? 0)) > DEFAULT_PIXEL_SPACING_TOLERANCE * Math.max(1, v))) {
      throw new MixedSizeError('PixelSpacing', describe(ref.pixelSpacing), describe(f.pixelSpacing), nameOf(f))
    }
  }
  const rowCosine = normalize(ref.orientation.slice(0, 3) as Vec3)
  const columnCosine = normalize(ref.orientation.slice(3, 6) as Vec3)
  const normal = normalize(cross(rowCosine, columnCosine))
  const keyed = frames.map(f => ({ f, d: dot(f.position, normal) })).sort((a, b) => a.d - b.d)
  const order = keyed.map(x => x.f)
  const gaps: number[] = []
  for (let k = 1; k < keyed.length; k++) {
    const a = keyed[k - 1]!
    const b = keyed[k]!
    const gap = b.d - a.d
    if (gap < tolDup) throw new DuplicatePositionError(nameOf(a.f), nameOf(b.f), a.d)
    gaps.push(gap)
  }
  const warnings: Warning[] = []
  let step: number
  if (gaps.length === 0) {
    step = fallbackStep !== undefined && fallbackStep > 0 ? fallbackStep : 1
    warnings.push({ code: 'single-slice', message: `one slice: slice step ${step} mm taken from ${fallbackStep !== undefined ? 'SpacingBetweenSlices/SliceThickness' : 'nothing (1 mm assumed)'}` })
  } else {
    // The series step is the median gap: robust to a few missing or uneven ones.
    const sorted = [...gaps].sort((a, b) => a - b)
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!
    const tol = Math.max(DEFAULT_SPACING_TOLERANCE_MM, tolSpacing * median)
    let uneven = 0
    gaps.forEach((gap, k) => {
      if (Math.abs(gap - median) <= tol) return
      const multiple = Math.round(gap / median)
      if (multiple >= 2 && Math.abs(gap - multiple * median) <= tol * multiple) {
        throw new MissingSliceError(multiple - 1, keyed[k]!.d, median, gap)
      }
      uneven++
    })
    const first = keyed[0]!.d
    const last = keyed[keyed.length - 1]!.d
    step = (last - first) / gaps.length
    if (uneven > 0) {
      warnings.push({
        code: 'uneven-spacing',
        message: `slice spacing is uneven: gaps from ${sorted[0]!.toFixed(4)} to ${sorted[sorted.length - 1]!.toFixed(4)} mm (${uneven} off the median ${median.toFixed(4)} mm by more than ${tol.toFixed(4)} mm); written unresampled with the mean step ${step.toFixed(4)} mm`
      })
    }
  }
  const p0 = order[0]!.position
  const pn = order[order.length - 1]!.position
  const sliceVector = order.length > 1 ? scale(sub(pn, p0), 1 / (order.length - 1)) : scale(normal, step)
  // In-plane drift of each origin from the stack axis through p0.
  let drift = 0
  for (const f of order) {
    const d = sub(f.position, p0)
    const along = dot(d, normal)
    drift = Math.max(drift, norm(sub(d, scale(normal, along))))
  }
  if (drift > tolShear) {
    warnings.push({ code: 'sheared-stack', message: `slice origins drift ${drift.toFixed(3)} mm in-plane (gantry tilt?): the sform keeps the shear, the qform cannot` })
  }
  const [rowSpacing, colSpacing] = ref.pixelSpacing
  const ci = scale(rowCosine, colSpacing)
  const cj = scale(columnCosine, rowSpacing)
  const affineLps = [
    ci[0], cj[0], sliceVector[0], p0[0],
    ci[1], cj[1], sliceVector[1], p0[1],
    ci[2], cj[2], sliceVector[2], p0[2],
    0, 0, 0, 1
  ]
  return { order, rowCosine, columnCosine, normal, pixelSpacing: ref.pixelSpacing, step, sliceVector, affineLps, gaps, warnings }
}
