/**
 * Feature extraction at ingest: from an assembled volume to its histogram,
 * thumbnail and keys. Pure and synchronous; reads the volume three times
 * at most (bounds, percentiles for non-CT, histogram) plus once for the
 * thumbnail's block averages, and allocates O(thumbnail + volume / block).
 */
import { rasAffine } from './affine.js'
import {
  DEFAULT_HISTOGRAM_BINS, DEFAULT_THUMBNAIL_SIZE, MAX_HISTOGRAM_BINS, MAX_THUMBNAIL_SIZE, MAX_VOXELS,
  MIN_HISTOGRAM_BINS, MIN_THUMBNAIL_SIZE
} from './constants.js'
import { InvalidVolumeError, SimilarityOptionsError } from './errors.js'
import { intensityHistogram } from './histogram.js'
import { featureKeys } from './keys.js'
import { intensityRange } from './range.js'
import type { RangeOptions, Rescale } from './range.js'
import { resampleThumbnail } from './resample.js'
import type { FeatureKeys, Features, VolumeInput } from './types.js'

export interface ExtractOptions extends RangeOptions {
  /** Thumbnail edge, MIN_THUMBNAIL_SIZE…MAX_THUMBNAIL_SIZE (default 32). */
  thumbnailSize?: number
  /** Histogram bins, MIN_HISTOGRAM_BINS…MAX_HISTOGRAM_BINS (default 64). */
  histogramBins?: number
}

export function checkInteger (option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SimilarityOptionsError(option, `expected an integer in [${min}, ${max}]`)
  }
  return value
}

function checkVolume (v: VolumeInput): { dims: [number, number, number], rescale: Rescale } {
  if (v === null || typeof v !== 'object') throw new InvalidVolumeError('input', 'not an object')
  if (!ArrayBuffer.isView(v.data) || v.data instanceof DataView) throw new InvalidVolumeError('data', 'not a typed array')
  if (!Array.isArray(v.dims) || v.dims.length !== 3) throw new InvalidVolumeError('dims', 'expected [nx, ny, nz]')
  const dims = v.dims.map(d => {
    if (!Number.isInteger(d) || d < 1) throw new InvalidVolumeError('dims', 'expected positive integers')
    return d
  }) as [number, number, number]
  const count = dims[0] * dims[1] * dims[2]
  if (count > MAX_VOXELS) throw new InvalidVolumeError('dims', `more than ${MAX_VOXELS} voxels`)
  if (v.data.length !== count) throw new InvalidVolumeError('data', `length ${v.data.length} ≠ nx·ny·nz = ${count}`)
  const slope = v.rescale?.slope ?? 1
  const intercept = v.rescale?.intercept ?? 0
  if (!Number.isFinite(slope) || slope === 0 || !Number.isFinite(intercept)) {
    throw new InvalidVolumeError('rescale', 'expected a finite non-zero slope and a finite intercept')
  }
  return { dims, rescale: { slope, intercept } }
}

function volumeKeys (v: VolumeInput): FeatureKeys {
  try {
    return featureKeys(v.modality, v.bodyPart ?? '')
  } catch (err) {
    const field = err instanceof SimilarityOptionsError ? err.option : 'modality'
    throw new InvalidVolumeError(field, 'expected a DICOM code string (≤ 16 of A-Z, 0-9, space, _), modality not empty')
  }
}

/**
 * Features of one assembled volume.
 *
 * @example
 * const { data, plan } = await assembleVolume(sources)
 * const f = extractFeatures({ data, dims: plan.dims, affine: plan.geometry.affineLps, space: 'LPS', modality: 'CT', bodyPart: 'CHEST' })
 */
export function extractFeatures (volume: VolumeInput, options: ExtractOptions = {}): Features {
  const size = checkInteger('thumbnailSize', options.thumbnailSize ?? DEFAULT_THUMBNAIL_SIZE, MIN_THUMBNAIL_SIZE, MAX_THUMBNAIL_SIZE)
  const bins = checkInteger('histogramBins', options.histogramBins ?? DEFAULT_HISTOGRAM_BINS, MIN_HISTOGRAM_BINS, MAX_HISTOGRAM_BINS)
  const { dims, rescale } = checkVolume(volume)
  const keys = volumeKeys(volume)
  const affine = rasAffine(volume.affine, volume.space ?? 'RAS')
  const range = intensityRange(volume.data, rescale, keys.modality, options)
  const histogram = intensityHistogram(volume.data, rescale, range[0], range[1], bins)
  const t = resampleThumbnail({ data: volume.data, dims, affine, rescale, range, size })
  return {
    keys,
    histogram,
    range,
    size,
    thumbnail: t.thumbnail,
    extent: t.extent,
    thumbnailMin: t.min,
    thumbnailMax: t.max
  }
}
