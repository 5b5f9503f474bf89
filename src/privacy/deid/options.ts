/** Options of de-identification and their resolution against `constants.ts`. */
import type { PixelCleaningRule } from './burned-in.js'
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_INPUT_BYTES } from './constants.js'

/**
 * Retain Longitudinal Temporal Information (PS3.15 E.3.6):
 * - `remove`: the Basic Profile (dates and times emptied, removed or dummied),
 * - `full`: Full Dates Option, dates and times kept as they are,
 * - `modified`: Modified Dates Option, dates shifted by a per-patient number of days derived
 *   from the site secret (see `uid.ts`), times kept.
 */
export type DateHandling = 'remove' | 'full' | 'modified'

export interface DeidOptions {
  /** Site secret of the keyed HMAC for UIDs and date shifts; at least 32 bytes, never shipped. */
  secret: Uint8Array
  dates?: DateHandling
  /** Retain Device Identity Option (PS3.15 E.3.4). */
  retainDeviceIdentity?: boolean
  /**
   * Rules that can clean burned-in text from pixel data. An object at risk of burned-in text
   * (see `burned-in.ts`) is refused unless one of them matches it.
   */
  pixelCleaningRules?: readonly PixelCleaningRule[]
  /** Largest input, and largest inflated Deflated data set, accepted. */
  maxInputBytes?: number
  /** Deepest sequence nesting accepted. */
  maxDepth?: number
}

export interface ResolvedOptions {
  dates: DateHandling
  retainDeviceIdentity: boolean
  pixelCleaningRules: readonly PixelCleaningRule[]
  maxInputBytes: number
  maxDepth: number
}

export function resolveOptions (options: DeidOptions): ResolvedOptions {
  return {
    dates: options.dates ?? 'remove',
    retainDeviceIdentity: options.retainDeviceIdentity ?? false,
    pixelCleaningRules: options.pixelCleaningRules ?? [],
    maxInputBytes: options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH
  }
}
