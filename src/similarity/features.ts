/**
 * Consistency of a Features object (from extraction, the decoder, or a
 * caller): sizes within limits, values in range. The decoder and the
 * ranking engine's query check go through here.
 */
import {
  HISTOGRAM_SUM_TOLERANCE, MAX_HISTOGRAM_BINS, MAX_THUMBNAIL_SIZE, MIN_HISTOGRAM_BINS, MIN_THUMBNAIL_SIZE
} from './constants.js'
import { InvalidFeaturesError } from './errors.js'
import { normalizeKey } from './keys.js'
import type { Features } from './types.js'

function checkKey (name: string, value: unknown, required: boolean): void {
  let ok = false
  try {
    ok = typeof value === 'string' && normalizeKey(name, value) === value && (!required || value !== '')
  } catch {}
  if (!ok) throw new InvalidFeaturesError(`${name} is not a normalized DICOM code string`)
}

/** Throws InvalidFeaturesError unless `f` is well-formed. */
export function checkFeatures (f: Features): void {
  if (f === null || typeof f !== 'object') throw new InvalidFeaturesError('not an object')
  if (f.keys === null || typeof f.keys !== 'object') throw new InvalidFeaturesError('keys missing')
  checkKey('modality', f.keys.modality, true)
  checkKey('bodyPart', f.keys.bodyPart, false)
  const { size, histogram, thumbnail, range, extent } = f
  if (!Number.isInteger(size) || size < MIN_THUMBNAIL_SIZE || size > MAX_THUMBNAIL_SIZE) {
    throw new InvalidFeaturesError(`thumbnail size outside [${MIN_THUMBNAIL_SIZE}, ${MAX_THUMBNAIL_SIZE}]`)
  }
  if (!(thumbnail instanceof Float32Array) || thumbnail.length !== size ** 3) throw new InvalidFeaturesError('thumbnail is not a Float32Array of size³ values')
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < thumbnail.length; i++) {
    const v = thumbnail[i] as number
    if (!(v >= 0 && v <= 1)) throw new InvalidFeaturesError('thumbnail value outside [0, 1]')
    if (v < min) min = v
    if (v > max) max = v
  }
  if (f.thumbnailMin !== min || f.thumbnailMax !== max) throw new InvalidFeaturesError('thumbnailMin/Max do not match the thumbnail')
  if (!(histogram instanceof Float32Array) || histogram.length < MIN_HISTOGRAM_BINS || histogram.length > MAX_HISTOGRAM_BINS) {
    throw new InvalidFeaturesError(`histogram is not a Float32Array of ${MIN_HISTOGRAM_BINS}…${MAX_HISTOGRAM_BINS} bins`)
  }
  let sum = 0
  for (let i = 0; i < histogram.length; i++) {
    const v = histogram[i] as number
    if (!(v >= 0 && v <= 1)) throw new InvalidFeaturesError('histogram value outside [0, 1]')
    sum += v
  }
  if (Math.abs(sum - 1) > HISTOGRAM_SUM_TOLERANCE) throw new InvalidFeaturesError('histogram does not sum to 1')
  if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[1] > range[0])) {
    throw new InvalidFeaturesError('range is not a finite [lo, hi] with lo < hi')
  }
  if (!Array.isArray(extent) || extent.length !== 3 || !extent.every(e => Number.isFinite(e) && e > 0)) {
    throw new InvalidFeaturesError('extent is not three positive finite sizes')
  }
}

/** Smallest and largest value of a thumbnail (for Features.thumbnailMin/Max). */
export function thumbnailBounds (t: Float32Array): { min: number, max: number } {
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < t.length; i++) {
    const v = t[i] as number
    if (v < min) min = v
    if (v > max) max = v
  }
  return { min, max }
}
