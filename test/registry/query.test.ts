import { describe, expect, it } from 'vitest'
import { exactValues, matches, queryText } from '../../src/registry/index.js'

describe('C-FIND matching (PS3.4 C.2.2.2)', () => {
  it('universal, single value, wildcard', () => {
    expect(matches('', undefined, 'LO')).toBe(true)
    expect(matches('*', 'x', 'LO')).toBe(true)
    expect(matches('CT', 'CT', 'CS')).toBe(true)
    expect(matches('CT', 'MR', 'CS')).toBe(false)
    expect(matches('CT', undefined, 'CS')).toBe(false)
    expect(matches('Ab?d*', 'Abcdef', 'LO')).toBe(true)
    expect(matches('ab?d*', 'Abcdef', 'LO')).toBe(false)
    expect(matches('a.c', 'abc', 'LO')).toBe(false)
  })

  it('person names case-insensitively, naturalized or not', () => {
    expect(matches([{ Alphabetic: 'doe^*' }], 'DOE^JANE', 'PN')).toBe(true)
    expect(matches('DOE^JANE', 'Doe^Jane', 'PN')).toBe(true)
    expect(queryText([{ Alphabetic: 'A^B' }])).toBe('A^B')
  })

  it('lists of UIDs, date ranges, numbers', () => {
    expect(matches('1.2\\1.3', '1.3', 'UI')).toBe(true)
    expect(matches('1.2\\1.3', '1.4', 'UI')).toBe(false)
    expect(matches('20240101-20240131', '20240115', 'DA')).toBe(true)
    expect(matches('20240101-', '20231231', 'DA')).toBe(false)
    expect(matches('-20240101', '20240101', 'DA')).toBe(true)
    expect(matches('512', 512, 'US')).toBe(true)
    expect(matches('2.50', '2.5', 'DS')).toBe(true)
    expect(matches('', undefined, 'SQ')).toBe(true)
  })

  it('says which keys can use an index', () => {
    expect(exactValues('1.2\\1.3')).toEqual(['1.2', '1.3'])
    expect(exactValues('1.2*')).toBeUndefined()
    expect(exactValues('')).toBeUndefined()
  })
})
