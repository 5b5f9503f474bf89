/**
 * Comparability keys: modality and body region. Both are DICOM Code Strings
 * (PS3.5 §6.2, VR CS: at most 16 characters, upper-case letters, digits,
 * space and underscore), compared after trimming and upper-casing, so that
 * 'Chest ' and 'CHEST' match.
 */
import { MAX_KEY_LENGTH } from './constants.js'
import { SimilarityOptionsError } from './errors.js'
import type { FeatureKeys } from './types.js'

const CS = /^[A-Z0-9_ ]*$/

/** One CS value, normalized; throws SimilarityOptionsError when it is not a CS. */
export function normalizeKey (name: string, value: string): string {
  if (typeof value !== 'string') throw new SimilarityOptionsError(name, 'not a string')
  const v = value.trim().toUpperCase()
  if (v.length > MAX_KEY_LENGTH) throw new SimilarityOptionsError(name, `longer than ${MAX_KEY_LENGTH} characters`)
  if (!CS.test(v)) throw new SimilarityOptionsError(name, 'not a DICOM code string (A-Z, 0-9, space, _)')
  return v
}

/** Keys of a volume; the modality is required, the body part may be '' (unknown). */
export function featureKeys (modality: string, bodyPart = ''): FeatureKeys {
  const m = normalizeKey('modality', modality)
  if (m === '') throw new SimilarityOptionsError('modality', 'empty')
  return { modality: m, bodyPart: normalizeKey('bodyPart', bodyPart) }
}

/** The default comparability rule: same modality and same body part (an unknown part matches only unknown). */
export function sameKeys (a: FeatureKeys, b: FeatureKeys): boolean {
  return a.modality === b.modality && a.bodyPart === b.bodyPart
}
