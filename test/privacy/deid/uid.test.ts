import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DATE_SHIFT_MAX_DAYS, DATE_SHIFT_MIN_DAYS } from '../../../src/privacy/deid/constants.js'
import { dateShiftDays, mapUid, UID_PATTERN } from '../../../src/privacy/deid/index.js'
import { uidMapper } from '../../../src/privacy/deid/uid.js'
import { SECRET } from './helpers.js'

const OTHER_SECRET = new Uint8Array(32).fill(9)
const uidArb = fc.array(fc.integer({ min: 0, max: 2 ** 31 }), { minLength: 2, maxLength: 12 }).map(parts => parts.join('.')).filter(u => u.length <= 64)

describe('keyed UID mapping', () => {
  it('is a fixed function of (secret, UID) with a known value', () => {
    // Pinned (computed independently with node:crypto) so a change of the derivation (which would break consistency with UIDs already
    // shared by a site) cannot go unnoticed.
    expect(mapUid(SECRET, '1.2.840.113619.2.55.3')).toBe(mapUid(SECRET, '1.2.840.113619.2.55.3'))
    expect(mapUid(new Uint8Array(32), '1.2.3')).toBe('2.25.329478143269812245706077787682155561090')
  })

  it('gives a valid UID under 2.25, at most 64 characters, never the input', () => {
    fc.assert(fc.property(uidArb, uid => {
      const mapped = mapUid(SECRET, uid)
      expect(mapped).toMatch(UID_PATTERN)
      expect(mapped.startsWith('2.25.')).toBe(true)
      expect(mapped.length).toBeLessThanOrEqual(64)
      expect(mapped).not.toBe(uid)
      // The 128-bit integer is an RFC 9562 version-8 UUID (PS3.5 B.2).
      const hex = BigInt(mapped.slice(5)).toString(16).padStart(32, '0')
      expect(hex[12]).toBe('8')
      expect(['8', '9', 'a', 'b']).toContain(hex[16])
    }), { numRuns: 200 })
  })

  it('maps distinct UIDs to distinct UIDs, and differs between sites', () => {
    fc.assert(fc.property(uidArb, uidArb, (a, b) => {
      fc.pre(a !== b)
      expect(mapUid(SECRET, a)).not.toBe(mapUid(SECRET, b))
      expect(mapUid(SECRET, a)).not.toBe(mapUid(OTHER_SECRET, a))
    }), { numRuns: 200 })
  })

  it('ignores the padding a UI value may carry, and the memoizing mapper agrees with the plain one', () => {
    expect(mapUid(SECRET, '1.2.3\0')).toBe(mapUid(SECRET, '1.2.3'))
    expect(mapUid(SECRET, '1.2.3 ')).toBe(mapUid(SECRET, '1.2.3'))
    const mapper = uidMapper(SECRET, 2)
    for (const uid of ['1.2.3', '1.2.4', '1.2.5', '1.2.3']) expect(mapper(uid)).toBe(mapUid(SECRET, uid))
  })

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => uidMapper(new Uint8Array(31))).toThrow(expect.objectContaining({ name: 'DeidSecretError' }))
  })
})

describe('per-patient date shift', () => {
  it('is the same for a patient at a site, into the past, within the bounds', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), key => {
      const days = dateShiftDays(SECRET, key, DATE_SHIFT_MIN_DAYS, DATE_SHIFT_MAX_DAYS)
      expect(dateShiftDays(SECRET, key, DATE_SHIFT_MIN_DAYS, DATE_SHIFT_MAX_DAYS)).toBe(days)
      expect(Number.isInteger(days)).toBe(true)
      expect(days).toBeLessThanOrEqual(-DATE_SHIFT_MIN_DAYS)
      expect(days).toBeGreaterThanOrEqual(-DATE_SHIFT_MAX_DAYS)
    }), { numRuns: 200 })
  })

  it('spreads patients over the range and differs between sites', () => {
    const shifts = Array.from({ length: 400 }, (_, i) => dateShiftDays(SECRET, `patient-${i}`, DATE_SHIFT_MIN_DAYS, DATE_SHIFT_MAX_DAYS))
    expect(new Set(shifts).size).toBeGreaterThan(350)
    const mean = shifts.reduce((a, b) => a + b, 0) / shifts.length
    expect(Math.abs(mean + (DATE_SHIFT_MIN_DAYS + DATE_SHIFT_MAX_DAYS) / 2)).toBeLessThan(300)
    const elsewhere = Array.from({ length: 400 }, (_, i) => dateShiftDays(OTHER_SECRET, `patient-${i}`, DATE_SHIFT_MIN_DAYS, DATE_SHIFT_MAX_DAYS))
    expect(shifts.filter((s, i) => s === elsewhere[i]).length).toBeLessThan(5)
  })
})
