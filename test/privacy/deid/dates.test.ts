import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { shiftDate, shiftDateTime } from '../../../src/privacy/deid/index.js'

describe('date shift of DA and DT values', () => {
  it('shifts across month, year and leap-day boundaries', () => {
    expect(shiftDate('20200301', -1)).toBe('20200229')
    expect(shiftDate('20190301', -1)).toBe('20190228')
    expect(shiftDate('20210101', -1)).toBe('20201231')
    expect(shiftDate('20200115', -365)).toBe('20190115')
    expect(shiftDate('20000229', 366)).toBe('20010301')
  })

  it('reads the ACR-NEMA form and writes the PS3.5 one', () => {
    expect(shiftDate('1995.06.26', -30)).toBe('19950527')
  })

  it('refuses what is not a full valid date', () => {
    for (const v of ['2020', '202001', '20200230', '2020-01-15', 'yesterday', '']) expect(shiftDate(v, -10)).toBeUndefined()
  })

  it('shifts the date of a DT and keeps time, fraction and offset', () => {
    expect(shiftDateTime('20200301101010.123456+0100', -1)).toBe('20200229101010.123456+0100')
    expect(shiftDateTime('20200301', -1)).toBe('20200229')
    expect(shiftDateTime('2020030110', -1)).toBe('2020022910')
    expect(shiftDateTime('2020', -1)).toBeUndefined()
    expect(shiftDateTime('20200301T1010', -1)).toBeUndefined()
  })

  it('keeps intervals: two dates shifted by the same days stay as far apart', () => {
    const day = 86_400_000
    const dateArb = fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2060, 0, 1) }).map(t => new Date(Math.floor(t / day) * day).toISOString().slice(0, 10).replace(/-/g, ''))
    const toDays = (s: string): number => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8))) / day
    fc.assert(fc.property(dateArb, dateArb, fc.integer({ min: -3650, max: -30 }), (a, b, shift) => {
      const sa = shiftDate(a, shift)
      const sb = shiftDate(b, shift)
      expect(sa).toBeDefined()
      expect(toDays(sa ?? '') - toDays(sb ?? '')).toBe(toDays(a) - toDays(b))
      expect(toDays(sa ?? '') - toDays(a)).toBe(shift)
    }), { numRuns: 200 })
  })
})
