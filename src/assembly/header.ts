/**
 * From one object's (naturalized) header to what assembly needs: the pixel
 * format, and per frame its plane position, orientation, spacing and
 * rescale. Handles single-frame images, Enhanced multi-frame objects with
 * functional groups (PS3.3 C.7.6.16: Plane Position, Plane Orientation,
 * Pixel Measures, Pixel Value Transformation; per-frame value wins over the
 * shared one) and classic multi-frame RT Dose (GridFrameOffsetVector,
 * PS3.3 C.8.8.3.2; DoseGridScaling as the slope).
 */
import { MAX_FRAMES } from './constants.js'
import type { NaturalDataset } from './dcmjs.js'
import { InvalidDicomError, MissingGeometryError } from './errors.js'
import { checkFormat } from './pixels.js'
import { cross, normalize } from './vec.js'
import type { Vec3 } from './vec.js'

export interface PixelFormat {
  rows: number
  columns: number
  samplesPerPixel: number
  photometric: string
  bitsAllocated: number
  bitsStored: number
  highBit: number
  pixelRepresentation: number
}

export interface FrameInfo {
  /** Index of the source (file) and of the frame inside it. */
  source: number
  frame: number
  position: Vec3
  /** ImageOrientationPatient: row cosine then column cosine. */
  orientation: [number, number, number, number, number, number]
  /** PixelSpacing: between rows, between columns (mm). */
  pixelSpacing: [number, number]
  sliceThickness: number | undefined
  slope: number
  intercept: number
}

export interface ObjectInfo {
  format: PixelFormat
  frames: FrameInfo[]
  transferSyntaxUID: string
  seriesInstanceUID: string
  sopClassUID: string
  spacingBetweenSlices: number | undefined
  /** Recoverable oddities (reported as warnings). */
  notes: string[]
}

type Item = Record<string, unknown>

const first = (v: unknown): unknown => Array.isArray(v) ? v[0] : v

/** dcmjs gives sequences as arrays of items; be lenient about a bare item. */
function item (v: unknown): Item | undefined {
  const x = first(v)
  return x !== null && typeof x === 'object' && !(x instanceof ArrayBuffer) ? x as Item : undefined
}

function num (v: unknown): number | undefined {
  const x = first(v)
  const n = typeof x === 'string' ? Number(x) : x
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

function nums (v: unknown, count: number): number[] | undefined {
  if (!Array.isArray(v) || v.length < count) return undefined
  const out = v.slice(0, count).map(x => typeof x === 'string' ? Number(x) : x)
  return out.every(x => typeof x === 'number' && Number.isFinite(x)) ? out as number[] : undefined
}

function str (v: unknown): string {
  const x = first(v)
  return typeof x === 'string' ? x.trim() : ''
}

function requiredInt (ds: NaturalDataset, key: string, source: string): number {
  const v = num(ds[key])
  if (v === undefined || !Number.isInteger(v) || v < 0) throw new InvalidDicomError(source, `${key} missing or invalid`)
  return v
}

export function pixelFormatOf (ds: NaturalDataset, source: string): PixelFormat {
  const bitsAllocated = requiredInt(ds, 'BitsAllocated', source)
  const bitsStored = num(ds.BitsStored) ?? bitsAllocated
  return {
    rows: requiredInt(ds, 'Rows', source),
    columns: requiredInt(ds, 'Columns', source),
    samplesPerPixel: num(ds.SamplesPerPixel) ?? 1,
    photometric: str(ds.PhotometricInterpretation),
    bitsAllocated,
    bitsStored,
    highBit: num(ds.HighBit) ?? bitsStored - 1,
    pixelRepresentation: num(ds.PixelRepresentation) ?? 0
  }
}

/** The functional-group lookup of PS3.3 C.7.6.16: the per-frame macro, else the shared one. */
function groupValue (perFrame: Item | undefined, shared: Item | undefined, sequence: string, key: string): unknown {
  return item(perFrame?.[sequence])?.[key] ?? item(shared?.[sequence])?.[key]
}

function orientationOf (v: unknown, source: string): FrameInfo['orientation'] {
  const o = nums(v, 6)
  if (o === undefined) throw new MissingGeometryError(source, 'no ImageOrientationPatient')
  const n = cross([o[0], o[1], o[2]] as Vec3, [o[3], o[4], o[5]] as Vec3)
  if (Math.hypot(...n) < 0.5) throw new MissingGeometryError(source, 'ImageOrientationPatient is degenerate')
  return o as FrameInfo['orientation']
}

function positionOf (v: unknown, source: string, what: string): Vec3 {
  const p = nums(v, 3)
  if (p === undefined) throw new MissingGeometryError(source, `no ImagePositionPatient${what}`)
  return p as Vec3
}

function spacingOf (v: unknown, source: string): [number, number] {
  const s = nums(v, 2)
  if (s === undefined || !(s[0]! > 0) || !(s[1]! > 0)) throw new MissingGeometryError(source, 'no valid PixelSpacing')
  return s as [number, number]
}

/** Frames of one object, in the order they are stored. */
export function objectInfo (ds: NaturalDataset, transferSyntaxUID: string, sourceIndex: number, source: string): ObjectInfo {
  const format = pixelFormatOf(ds, source)
  checkFormat(format, source)
  const notes: string[] = []
  const count = num(ds.NumberOfFrames) ?? 1
  if (!Number.isInteger(count) || count < 1 || count > MAX_FRAMES) {
    throw new InvalidDicomError(source, `NumberOfFrames ${count} out of range 1..${MAX_FRAMES}`)
  }
  const shared = item(ds.SharedFunctionalGroupsSequence)
  const perFrameSeq = ds.PerFrameFunctionalGroupsSequence
  const frames: FrameInfo[] = []
  const doseScaling = num(ds.DoseGridScaling)
  const topSlope = num(ds.RescaleSlope) ?? doseScaling ?? 1
  const topIntercept = num(ds.RescaleIntercept) ?? 0

  if (Array.isArray(perFrameSeq) || shared !== undefined) {
    const perFrame = Array.isArray(perFrameSeq) ? perFrameSeq as Item[] : []
    if (perFrame.length !== 0 && perFrame.length < count) {
      throw new InvalidDicomError(source, `${perFrame.length} per-frame functional groups for ${count} frames`)
    }
    if (perFrame.length > count) {
      // Seen in the wild (objects cut down to fewer frames); dcm2niix also uses the first ones.
      notes.push(`${perFrame.length} per-frame functional groups for ${count} frame(s): the first ${count} used`)
    }
    for (let f = 0; f < count; f++) {
      const g = perFrame[f]
      const where = ` for frame ${f + 1}`
      frames.push({
        source: sourceIndex,
        frame: f,
        position: positionOf(groupValue(g, shared, 'PlanePositionSequence', 'ImagePositionPatient') ?? (count === 1 ? ds.ImagePositionPatient : undefined), source, where),
        orientation: orientationOf(groupValue(g, shared, 'PlaneOrientationSequence', 'ImageOrientationPatient') ?? ds.ImageOrientationPatient, source),
        pixelSpacing: spacingOf(groupValue(g, shared, 'PixelMeasuresSequence', 'PixelSpacing') ?? ds.PixelSpacing, source),
        sliceThickness: num(groupValue(g, shared, 'PixelMeasuresSequence', 'SliceThickness') ?? ds.SliceThickness),
        slope: num(groupValue(g, shared, 'PixelValueTransformationSequence', 'RescaleSlope')) ?? topSlope,
        intercept: num(groupValue(g, shared, 'PixelValueTransformationSequence', 'RescaleIntercept')) ?? topIntercept
      })
    }
  } else {
    const orientation = orientationOf(ds.ImageOrientationPatient, source)
    const origin = positionOf(ds.ImagePositionPatient, source, '')
    const pixelSpacing = spacingOf(ds.PixelSpacing, source)
    const normal = normalize(cross(orientation.slice(0, 3) as Vec3, orientation.slice(3, 6) as Vec3))
    // C.8.8.3.2: a first offset of 0 means offsets along the normal relative to the origin;
    // otherwise they are absolute patient z coordinates (defined for axial planes only).
    let direction: Vec3 = normal
    let offsets = [0]
    if (count > 1) {
      const grid = nums(ds.GridFrameOffsetVector, count)
      if (grid === undefined) throw new MissingGeometryError(source, `${count} frames without per-frame positions or GridFrameOffsetVector`)
      const first = grid[0] ?? 0
      offsets = grid.map(o => o - first)
      if (first !== 0) direction = [0, 0, 1]
    }
    offsets.forEach((o, f) => frames.push({
      source: sourceIndex,
      frame: f,
      position: [origin[0] + o * direction[0], origin[1] + o * direction[1], origin[2] + o * direction[2]],
      orientation,
      pixelSpacing,
      sliceThickness: num(ds.SliceThickness),
      slope: topSlope,
      intercept: topIntercept
    }))
  }
  return {
    format,
    frames,
    transferSyntaxUID,
    seriesInstanceUID: str(ds.SeriesInstanceUID),
    sopClassUID: str(ds.SOPClassUID),
    spacingBetweenSlices: num(groupValue(undefined, shared, 'PixelMeasuresSequence', 'SpacingBetweenSlices') ?? ds.SpacingBetweenSlices),
    notes
  }
}
