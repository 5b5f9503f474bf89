/**
 * Pure geometry of a synthetic series in DICOM patient coordinates (LPS,
 * PS3.3 C.7.6.2.1.1): direction cosines of rows and columns, the slice
 * normal, and each slice's ImagePositionPatient. Slices are stacked exactly
 * along the normal (no gantry tilt / shear).
 */
import { DEFAULT_OBLIQUE_DEGREES } from './constants.js'
import { SyntheticOptionsError } from './errors.js'

export type Vec3 = [number, number, number]

/** A named plane, an oblique tilt given in degrees about x, y, z, or explicit cosines. */
export type Orientation =
  | 'axial' | 'sagittal' | 'coronal' | 'oblique'
  | { degrees: readonly [number, number, number] }
  | { row: readonly [number, number, number], column: readonly [number, number, number] }

export function dot (a: readonly number[], b: readonly number[]): number {
  return (a[0] ?? 0) * (b[0] ?? 0) + (a[1] ?? 0) * (b[1] ?? 0) + (a[2] ?? 0) * (b[2] ?? 0)
}

export function cross (a: readonly number[], b: readonly number[]): Vec3 {
  const [a0, a1, a2] = [a[0] ?? 0, a[1] ?? 0, a[2] ?? 0]
  const [b0, b1, b2] = [b[0] ?? 0, b[1] ?? 0, b[2] ?? 0]
  return [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
}

function normalize (v: Vec3, what: string): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2])
  if (!(n > 1e-9) || !Number.isFinite(n)) throw new SyntheticOptionsError('orientation', `${what} has zero length`)
  return [v[0] / n, v[1] / n, v[2] / n]
}

function rotate (degrees: readonly [number, number, number], v: Vec3): Vec3 {
  const [ax, ay, az] = degrees.map(d => d * Math.PI / 180) as Vec3
  // R = Rz · Ry · Rx applied to v
  let [x, y, z] = v
  ;[y, z] = [y * Math.cos(ax) - z * Math.sin(ax), y * Math.sin(ax) + z * Math.cos(ax)]
  ;[x, z] = [x * Math.cos(ay) + z * Math.sin(ay), -x * Math.sin(ay) + z * Math.cos(ay)]
  ;[x, y] = [x * Math.cos(az) - y * Math.sin(az), x * Math.sin(az) + y * Math.cos(az)]
  return [x, y, z]
}

/**
 * Row and column direction cosines (ImageOrientationPatient) for an
 * orientation. The named planes follow the usual scanner conventions:
 * axial rows go to patient left, columns posterior; coronal and sagittal
 * columns go to the feet.
 */
export function directionCosines (orientation: Orientation): { row: Vec3, column: Vec3 } {
  if (orientation === 'axial') return { row: [1, 0, 0], column: [0, 1, 0] }
  if (orientation === 'coronal') return { row: [1, 0, 0], column: [0, 0, -1] }
  if (orientation === 'sagittal') return { row: [0, 1, 0], column: [0, 0, -1] }
  if (orientation === 'oblique' || (typeof orientation === 'object' && 'degrees' in orientation)) {
    const degrees = orientation === 'oblique' ? DEFAULT_OBLIQUE_DEGREES : orientation.degrees
    return { row: rotate(degrees, [1, 0, 0]), column: rotate(degrees, [0, 1, 0]) }
  }
  if (typeof orientation !== 'object' || !('row' in orientation)) {
    throw new SyntheticOptionsError('orientation', 'unknown orientation')
  }
  // Gram–Schmidt: keep the row direction, make the column orthogonal to it.
  const row = normalize([...orientation.row], 'row cosine')
  const c = [...orientation.column] as Vec3
  const p = dot(c, row)
  const column = normalize([c[0] - p * row[0], c[1] - p * row[1], c[2] - p * row[2]], 'column cosine')
  return { row, column }
}

/**
 * A decimal string of at most 16 characters (the DS limit, PS3.5 §6.2),
 * as precise as fits. Geometry is computed from the value the file holds.
 */
export function formatDS (value: number): string {
  if (!Number.isFinite(value)) throw new SyntheticOptionsError('value', `not finite: ${value}`)
  if (Object.is(value, -0) || Math.abs(value) < 1e-12) return '0'
  for (let digits = 16; digits > 1; digits--) {
    const s = String(Number(value.toPrecision(digits)))
    if (s.length <= 16) return s
  }
  return value.toExponential(6)
}

export const asDS = (v: number): number => Number(formatDS(v))

export interface SliceGeometry {
  row: Vec3
  column: Vec3
  normal: Vec3
  /** ImagePositionPatient of each slice, in spatial order (ascending along the normal). */
  positions: Vec3[]
  /** Offsets along the normal, relative to the middle of the stack, same order. */
  offsets: number[]
}

/**
 * Slice positions of a stack centred on `center`: `offsets` are distances
 * along the normal in mm (ascending); pixel (0,0) of each slice is placed so
 * the in-plane centre of the image lies on the stack axis. Values are rounded
 * to what the DS strings hold.
 */
export function sliceGeometry (opts: {
  orientation: Orientation
  rows: number
  columns: number
  pixelSpacing: readonly [number, number]
  offsets: readonly number[]
  center: readonly [number, number, number]
}): SliceGeometry {
  const dc = directionCosines(opts.orientation)
  const row = dc.row.map(asDS) as Vec3
  const column = dc.column.map(asDS) as Vec3
  const normal = cross(row, column)
  const [rowSpacing, colSpacing] = opts.pixelSpacing
  const first = opts.offsets[0] ?? 0
  const last = opts.offsets[opts.offsets.length - 1] ?? 0
  const mid = (first + last) / 2
  const halfU = (opts.columns - 1) / 2 * colSpacing
  const halfV = (opts.rows - 1) / 2 * rowSpacing
  const positions = opts.offsets.map((o): Vec3 => {
    const w = o - mid
    return [0, 1, 2].map(a => asDS(
      (opts.center[a] ?? 0) - halfU * (row[a] ?? 0) - halfV * (column[a] ?? 0) + w * (normal[a] ?? 0)
    )) as Vec3
  })
  return { row, column, normal, positions, offsets: opts.offsets.map(o => o - mid) }
}
