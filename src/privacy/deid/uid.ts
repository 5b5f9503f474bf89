/**
 * Keyed, consistent UID replacement (PS3.15 E.1.1 action U) and the per-patient date-shift key.
 *
 * new UID = "2.25." + decimal(UUIDv8(HMAC-SHA-256(siteSecret, label ‖ 0x00 ‖ uid)[0..16]))
 *
 * - Same site secret + same source UID → same new UID, so a series stays a series and references
 *   between objects (Referenced SOP Instance UID, Frame of Reference UID...) stay consistent.
 * - Without the secret the mapping can be neither inverted nor recomputed from a guessed UID
 *   (which a plain hash would allow: UIDs are often guessable from a root, date and counter).
 * - PS3.5 Annex B.2: a UID under 2.25 is the integer value of a UUID; the 128 bits are marked as an
 *   RFC 9562 version-8 (custom) UUID, 122 of them from the HMAC. At most 5 + 39 = 44 characters.
 */
import { createHmac } from 'node:crypto'
import { MAX_UID_LENGTH, MIN_SECRET_BYTES, UID_ROOT } from './constants.js'
import { DeidSecretError } from './errors.js'

const UID_LABEL = 'dm2/deid/uid/v1'
const DATE_SHIFT_LABEL = 'dm2/deid/date-shift/v1'

/** PS3.5 §9.1 UID grammar: dot-separated decimal components without leading zeros. */
export const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/

export function checkSecret (secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
    throw new DeidSecretError(`need at least ${MIN_SECRET_BYTES} bytes`)
  }
}

function keyed (secret: Uint8Array, label: string, value: string): Buffer {
  return createHmac('sha256', secret).update(label).update(new Uint8Array([0])).update(value, 'utf8').digest()
}

/** Strip the padding (trailing NUL or space) PS3.5 §6.2 allows after a UI value. */
export function normalizeUid (uid: string): string {
  return uid.replace(/[\0 ]+$/, '')
}

/** The replacement of one UID under a site secret. */
export function mapUid (secret: Uint8Array, uid: string): string {
  const digest = keyed(secret, UID_LABEL, normalizeUid(uid))
  const bytes = digest.subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80 // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80 // variant 10
  const mapped = `${UID_ROOT}.${BigInt('0x' + bytes.toString('hex')).toString(10)}`
  // Cannot happen (≤ 44 characters); kept as a guard should the root ever change.
  if (mapped.length > MAX_UID_LENGTH) throw new Error('generated UID too long')
  return mapped
}

/** A UID mapper bound to one secret, memoizing the few UIDs that repeat across a series. */
export function uidMapper (secret: Uint8Array, cacheSize = 4096): (uid: string) => string {
  checkSecret(secret)
  const cache = new Map<string, string>()
  return (uid: string) => {
    const hit = cache.get(uid)
    if (hit !== undefined) return hit
    const mapped = mapUid(secret, uid)
    if (cache.size >= cacheSize) cache.clear()
    cache.set(uid, mapped)
    return mapped
  }
}

/**
 * Whole days (negative: into the past) by which a patient's dates are shifted, the same for every
 * object of that patient at this site. `patientKey` is built by the caller from the identifying
 * attributes (see `dataset.ts`); it never leaves this function.
 */
export function dateShiftDays (secret: Uint8Array, patientKey: string, minDays: number, maxDays: number): number {
  const digest = keyed(secret, DATE_SHIFT_LABEL, patientKey)
  const span = maxDays - minDays + 1
  // 48 bits of the digest; the modulo bias over a span of a few thousand is below 1e-10.
  const n = digest.readUIntBE(0, 6)
  return -(minDays + (n % span))
}
