/**
 * Pass 1: read every object's header (never its pixels), keep only what
 * assembly needs (a few numbers per frame, and the first image's
 * descriptive attributes), check the series is one consistent volume, and
 * fix its geometry, data type, NIfTI header and sidecar.
 */
import { MAX_FRAMES, MAX_NIFTI_DIM, MAX_VOLUME_BYTES } from './constants.js'
import type { NaturalDataset } from './dcmjs.js'
import { MixedPixelFormatError, MixedSizeError, NotOneSeriesError, VolumeTooLargeError } from './errors.js'
import { stackGeometry } from './geometry.js'
import type { GeometryOptions, StackGeometry, Warning } from './geometry.js'
import { objectInfo } from './header.js'
import type { FrameInfo, PixelFormat } from './header.js'
import { niftiHeader, lpsToRas } from './nifti.js'
import { parseHeader, type HeaderResult } from './object.js'
import { BYTES, scalingPlan } from './scaling.js'
import type { ScalingPlan } from './scaling.js'
import { buildSidecar } from './sidecar.js'
import type { SliceSource } from './sources.js'
import { DEFLATED_TS } from './transfer-syntax.js'
import type { PixelEncoding } from './transfer-syntax.js'

export interface AssembleOptions extends GeometryOptions {
  signal?: AbortSignal
  /** Called after each object of each pass. */
  onProgress?: (event: { phase: 'headers' | 'pixels', done: number, total: number }) => void
  /** Copy SeriesDescription/ProtocolName into the sidecar (default true). */
  descriptions?: boolean
  /** Refuse volumes larger than this many bytes of voxel data. */
  maxVolumeBytes?: number
  /**
   * The header of a source parsed earlier (`parseHeader` of its bytes, e.g.
   * while the series was still arriving); undefined: pass 1 reads and parses it.
   */
  headerOf?: (source: SliceSource, index: number) => HeaderResult | undefined
}

export interface AssemblyPlan {
  sources: SliceSource[]
  /** Per source index: how its pixels are encoded and how many frames it has. */
  objects: Map<number, { encoding: PixelEncoding, deflated: boolean, frames: number }>
  format: PixelFormat
  geometry: StackGeometry
  scaling: ScalingPlan
  /** NIfTI dims: columns, rows, slices. */
  dims: [number, number, number]
  /** The 352 header bytes of the .nii. */
  header: Uint8Array
  sidecar: Record<string, unknown>
  warnings: Warning[]
}

const PIXEL_FORMAT_KEYS = ['samplesPerPixel', 'photometric', 'bitsAllocated', 'bitsStored', 'highBit', 'pixelRepresentation'] as const

function checkSameFormat (ref: PixelFormat, f: PixelFormat, source: string): void {
  if (f.rows !== ref.rows) throw new MixedSizeError('Rows', String(ref.rows), String(f.rows), source)
  if (f.columns !== ref.columns) throw new MixedSizeError('Columns', String(ref.columns), String(f.columns), source)
  for (const k of PIXEL_FORMAT_KEYS) {
    if (f[k] !== ref[k]) throw new MixedPixelFormatError(k, String(ref[k]), String(f[k]), source)
  }
}

/** Bytes of the whole .nii file a plan writes: header, then every voxel. */
export function niftiByteLength (plan: AssemblyPlan): number {
  return plan.header.length + plan.dims[0] * plan.dims[1] * plan.dims[2] * BYTES[plan.scaling.type]
}

export async function planAssembly (sources: SliceSource[], options: AssembleOptions = {}): Promise<AssemblyPlan> {
  const warnings: Warning[] = []
  const objects = new Map<number, { encoding: PixelEncoding, deflated: boolean, frames: number }>()
  const frames: FrameInfo[] = []
  let format: PixelFormat | undefined
  let firstDs: NaturalDataset | undefined
  let series: string | undefined
  let transferSyntaxUID = ''
  let spacingHeader: number | undefined
  for (const [index, source] of sources.entries()) {
    options.signal?.throwIfAborted()
    const parsed = options.headerOf?.(source, index) ?? parseHeader(await source.read(), source.name)
    options.onProgress?.({ phase: 'headers', done: index + 1, total: sources.length })
    if (parsed.kind === 'skipped') {
      warnings.push({ code: 'skipped-object', message: `${source.name}: skipped (${parsed.reason})` })
      continue
    }
    const info = objectInfo(parsed.ds, parsed.transferSyntaxUID, index, source.name)
    for (const note of info.notes) warnings.push({ code: 'frame-count-mismatch', message: `${source.name}: ${note}` })
    if (format === undefined) {
      format = info.format
      firstDs = parsed.ds
      series = info.seriesInstanceUID
      transferSyntaxUID = info.transferSyntaxUID
      spacingHeader = info.spacingBetweenSlices
    } else {
      checkSameFormat(format, info.format, source.name)
      if (info.seriesInstanceUID !== series) throw new NotOneSeriesError(`${source.name} belongs to another series than the first image`)
    }
    if (frames.length + info.frames.length > MAX_FRAMES) throw new VolumeTooLargeError(`more than ${MAX_FRAMES} frames in the series`)
    objects.set(index, { encoding: parsed.encoding, deflated: info.transferSyntaxUID === DEFLATED_TS, frames: info.frames.length })
    frames.push(...info.frames)
  }
  if (format === undefined || firstDs === undefined) throw new NotOneSeriesError('no image object among the sources')
  const nameOf = (f: FrameInfo): string => {
    const name = sources[f.source]?.name ?? '?'
    return (objects.get(f.source)?.frames ?? 1) > 1 ? `${name} frame ${f.frame + 1}` : name
  }
  const fallbackStep = spacingHeader ?? frames[0]?.sliceThickness
  const geometry = stackGeometry(frames, nameOf, fallbackStep, options)
  warnings.push(...geometry.warnings)
  if (format.photometric === 'MONOCHROME1') {
    warnings.push({ code: 'monochrome1', message: 'MONOCHROME1: values are written as stored (low = white on display), not inverted' })
  }
  const scaling = scalingPlan(format, frames)
  const dims: [number, number, number] = [format.columns, format.rows, frames.length]
  if (dims.some(d => d > MAX_NIFTI_DIM)) throw new VolumeTooLargeError(`dimensions ${dims.join(' × ')} exceed NIfTI-1's ${MAX_NIFTI_DIM} per axis`)
  const volumeBytes = dims[0] * dims[1] * dims[2] * BYTES[scaling.type]
  const limit = options.maxVolumeBytes ?? MAX_VOLUME_BYTES
  if (volumeBytes > limit) throw new VolumeTooLargeError(`volume of ${volumeBytes} bytes exceeds the limit of ${limit}`)
  const repetition = typeof firstDs.RepetitionTime === 'number' ? firstDs.RepetitionTime / 1000 : 0
  const header = niftiHeader({
    dims,
    type: scaling.type,
    affineLps: geometry.affineLps,
    rowCosine: geometry.rowCosine,
    columnCosine: geometry.columnCosine,
    normal: geometry.normal,
    pixdim: [geometry.pixelSpacing[1], geometry.pixelSpacing[0], geometry.step],
    sclSlope: scaling.sclSlope,
    sclInter: scaling.sclInter,
    tr: repetition
  })
  const f0 = frames[0]!
  const uniform = frames.every(f => f.slope === f0.slope && f.intercept === f0.intercept)
  const sidecar = buildSidecar({
    ds: firstDs,
    transferSyntaxUID,
    format,
    geometry,
    scaling,
    dims,
    affineRas: lpsToRas(geometry.affineLps),
    rescale: uniform ? { slope: f0.slope, intercept: f0.intercept } : 'per-frame',
    warnings,
    descriptions: options.descriptions ?? true
  })
  return { sources, objects, format, geometry, scaling, dims, header, sidecar, warnings }
}
