/**
 * Burned-in text: PS3.15 E.1.1 leaves identifying text drawn into the pixels to the Clean Pixel
 * Data Option (E.3.1). Objects that commonly carry it (ultrasound, angiography/fluoroscopy,
 * secondary capture, or Burned In Annotation (0028,0301) present and not "NO") are refused for
 * egress unless a pixel-cleaning rule, supplied by the site for that device and layout, applies.
 *
 * Rules see native (uncompressed) pixel data only: cleaning compressed data would mean decoding
 * and re-encoding, lossy for the lossy syntaxes; such objects stay refused.
 */
import { BURNED_IN_RISK_MODALITIES, BURNED_IN_RISK_SOP_CLASS_PREFIXES } from './constants.js'
import { DeidFormatError } from './errors.js'

/** What a rule may look at to decide whether it knows this kind of image. */
export interface ImageDescription {
  readonly sopClassUid: string
  readonly modality: string
  readonly burnedInAnnotation?: string
  readonly manufacturer: string
  readonly modelName: string
  readonly rows: number
  readonly columns: number
  readonly samplesPerPixel: number
  readonly bitsAllocated: number
  readonly numberOfFrames: number
  /** 0: samples interleaved per pixel; 1: one plane per sample (PS3.3 C.7.6.3.1.3). */
  readonly planarConfiguration: number
  readonly transferSyntaxUid: string
  /** Compressed (encapsulated) pixel data: no rule can apply. */
  readonly encapsulated: boolean
  readonly littleEndian: boolean
}

/** A site's rule for cleaning burned-in text from one kind of image. */
export interface PixelCleaningRule {
  readonly name: string
  /** True when this rule knows where the text is on such images (device, size, layout). */
  matches: (image: ImageDescription) => boolean
  /** Clean the native pixel data (all frames) in place. */
  clean: (pixels: Uint8Array, image: ImageDescription) => void
}

/** Why this object may carry burned-in text, or undefined when it is not at risk. */
export function burnedInRisk (image: ImageDescription): string | undefined {
  const bia = image.burnedInAnnotation?.trim().toUpperCase()
  if (bia !== undefined && bia !== '' && bia !== 'NO') return 'Burned In Annotation is not NO'
  if (BURNED_IN_RISK_MODALITIES.includes(image.modality.trim().toUpperCase())) return `modality ${image.modality.trim()}`
  if (BURNED_IN_RISK_SOP_CLASS_PREFIXES.some(p => image.sopClassUid === p || image.sopClassUid.startsWith(p.endsWith('.') ? p : `${p}.`))) {
    return 'SOP class commonly carrying burned-in text'
  }
  return undefined
}

export interface Rectangle { x: number, y: number, width: number, height: number }

export interface BlankRectanglesInit {
  name?: string
  /** Which images the rectangles are right for (e.g. one scanner model at one matrix size). */
  match: (image: ImageDescription) => boolean
  /** Regions (in pixels, origin top left) set to zero in every frame and every sample. */
  rectangles: readonly Rectangle[]
}

/** A rule that zeroes fixed rectangles, e.g. the banner where a scanner prints the patient's name. */
export function blankRectangles (init: BlankRectanglesInit): PixelCleaningRule {
  return {
    name: init.name ?? 'blank-rectangles',
    matches: image => !image.encapsulated && image.bitsAllocated % 8 === 0 && init.match(image),
    clean: (pixels, image) => {
      const { rows, columns, samplesPerPixel: spp, numberOfFrames: frames } = image
      const bytes = image.bitsAllocated / 8
      const frameBytes = rows * columns * spp * bytes
      if (pixels.byteLength < frameBytes * frames) throw new DeidFormatError('malformed', 'Pixel Data shorter than its frames')
      for (let f = 0; f < frames; f++) {
        for (const r of init.rectangles) {
          const x0 = Math.max(0, Math.floor(r.x))
          const y0 = Math.max(0, Math.floor(r.y))
          const x1 = Math.min(columns, Math.ceil(r.x + r.width))
          const y1 = Math.min(rows, Math.ceil(r.y + r.height))
          for (let s = 0; s < spp; s++) {
            for (let y = y0; y < y1; y++) {
              for (let x = x0; x < x1; x++) {
                const sample = image.planarConfiguration === 1
                  ? s * rows * columns + y * columns + x
                  : (y * columns + x) * spp + s
                const at = f * frameBytes + sample * bytes
                pixels.fill(0, at, at + bytes)
              }
            }
          }
        }
      }
    }
  }
}
