/**
 * A family of series as known transformations of one base volume (same
 * study, patient, geometry and frame of reference; a new series each), for
 * similarity tests: more or other noise, intensity scaling, a small shift.
 */
import { generateSeries } from './generate.js'
import type { GeneratedSeries } from './generate.js'
import type { SeriesOptions } from './options.js'
import { uid } from './random.js'

export interface Transform {
  /** A label, also the series description suffix. */
  name: string
  /** Noise standard deviation (physical units); default: the base's. */
  noiseSigma?: number
  /** Another noise pattern; default the base's (so only the named change differs). */
  noiseSeed?: number | string
  /** Multiplies the base's intensity scale. */
  intensityScale?: number
  /** Phantom shift in mm along (rows, columns, normal), added to the base's. */
  shift?: readonly [number, number, number]
}

/**
 * The base series and one series per transform.
 *
 * @example
 * const [base, noisy, brighter] = generateFamily({ seed: 1 }, [
 *   { name: 'noisy', noiseSigma: 30 }, { name: 'brighter', intensityScale: 1.2 }
 * ])
 */
export function generateFamily (base: SeriesOptions, transforms: readonly Transform[]): GeneratedSeries[] {
  const seed = base.seed
  const shared: SeriesOptions = {
    ...base,
    studyInstanceUID: base.studyInstanceUID ?? uid(seed, 'family/study'),
    frameOfReferenceUID: base.frameOfReferenceUID ?? uid(seed, 'family/frame-of-reference')
  }
  const first = generateSeries({ ...shared, seriesInstanceUID: base.seriesInstanceUID ?? uid(seed, 'family/base') })
  const description = first.meta.seriesDescription
  const baseShift = base.shift ?? [0, 0, 0]
  const members = transforms.map((t, index) => generateSeries({
    ...shared,
    identity: { ...first.meta.identity, ...base.identity },
    seriesInstanceUID: uid(seed === undefined ? undefined : `${String(seed)}/family/${index}`, t.name),
    seriesNumber: first.meta.seriesNumber + index + 1,
    seriesDescription: `${description} ${t.name}`,
    noiseSigma: t.noiseSigma ?? base.noiseSigma,
    noiseSeed: t.noiseSeed ?? base.noiseSeed ?? base.seed ?? 0,
    intensityScale: (base.intensityScale ?? 1) * (t.intensityScale ?? 1),
    shift: t.shift === undefined ? baseShift : [baseShift[0] + t.shift[0], baseShift[1] + t.shift[1], baseShift[2] + t.shift[2]],
    seed: seed === undefined ? undefined : `${String(seed)}/family/${index}`
  }))
  return [first, ...members]
}
