import { describe, it, expect } from 'vitest'
import { MAX_QUERY_BYTES, MAX_QUERY_DEPTH, MAX_QUERY_TERMS, MAX_IN_VALUES, QueryError, parse } from '../../src/query/index.js'

/** The error `parse(text)` throws (fails the test if it does not throw). */
function errorOf (text: string, options?: Parameters<typeof parse>[1]): QueryError & { field?: string, limit?: string, max?: number } {
  try {
    parse(text, options)
  } catch (err) {
    expect(err).toBeInstanceOf(QueryError)
    return err as QueryError
  }
  throw new Error(`parsed: ${text}`)
}

describe('syntax errors point at the position', () => {
  it.each([
    ['', 0, 'empty query'],
    ['WHERE', 5, 'empty query'],
    ['modality = "MR" AND rows > ', 27, 'expected a value'],
    ['modality = "MR" AND', 19, 'expected a condition at the end'],
    ['modality "MR"', 9, 'expected an operator'],
    ['rows = 1 rows = 2', 9, 'expected AND, OR'],
    ['(rows = 1', 9, 'expected ) to close the ( opened at position 0'],
    ['rows = 1)', 8, 'unbalanced )'],
    ['rows = 1 AND ()', 14, 'expected a field name'],
    ['patientID = "MR X', 12, 'unterminated string'],
    ['patientID = "a\\qb"', 14, 'invalid escape'],
    ['patientID = "a\\u12"', 14, 'invalid escape'],
    ['patientID = "a\tb"', 14, 'control character'],
    ["modality = 'MR'", 11, 'double quotes'],
    ['modality = MR', 11, 'expected a value (strings take double quotes)'],
    ['rows = 12px', 7, 'malformed number'],
    ['rows = 1.2.3', 7, 'malformed number'],
    ['rows == 1', 6, 'expected a value'],
    ['rows ! 1', 5, 'unexpected character'],
    ['rows = 1 && columns = 2', 9, 'unexpected character'],
    ['rows BETWEEN 1 OR 2', 15, 'expected AND between the bounds'],
    ['modality IN "MR"', 12, 'expected ( after IN'],
    ['modality IN ("MR" "CT")', 18, 'expected , or )'],
    ['modality IN ()', 13, 'expected a value'],
    ['modality NOT = "MR"', 13, 'expected BETWEEN, IN or LIKE after NOT'],
    ['seriesDescription LIKE T1', 23, 'LIKE takes a quoted prefix'],
    ['seriesDescription LIKE "T1"', 23, 'LIKE takes a prefix ending in *'],
    ['seriesDescription LIKE "*T1*"', 23, 'LIKE takes a prefix ending in *'],
    ['seriesDescription LIKE "T?*"', -1, ''],
    ['AND rows = 1', 0, 'expected a field name'],
    ['rows = 1 OR WHERE', 12, 'expected a field name']
  ])('%j → position %i', (text, position, reason) => {
    if (position === -1) {
      // `?` is an ordinary character: only `*` is special in a LIKE prefix.
      expect(parse(text)).toEqual({ type: 'like', field: 'seriesDescription', prefix: 'T?' })
      return
    }
    const err = errorOf(text)
    expect(err.name).toBe('QuerySyntaxError')
    expect(err.position).toBe(position)
    expect(err.reason).toContain(reason)
  })

  it('the message quotes the query with a caret under the position', () => {
    const err = errorOf('modality = "MR" AND rows > ')
    expect(err.message).toBe('expected a value at position 27\n  modality = "MR" AND rows > \n                             ^')
  })

  it('on a multi-line or long query the caret is on the right line and column', () => {
    const err = errorOf('modality = "MR"\nAND rows ? 1')
    expect(err.position).toBe(25)
    expect(err.message.split('\n').slice(1)).toEqual(['  AND rows ? 1', '           ^'])
    const long = `seriesDescription = "${'x'.repeat(200)}" AND rows ~ 1`
    const e2 = errorOf(long)
    expect(e2.position).toBe(long.indexOf('~'))
    const [, line = '', mark = ''] = e2.message.split('\n')
    expect(line[mark.indexOf('^')]).toBe('~')
  })
})

describe('unknown fields', () => {
  it.each([
    ['x = 1', 'x', 0],
    ['modality = "MR" AND patientAddress = "1 Main St"', 'patientAddress', 20],
    ['rows = 1 OR NOT (columns = 1 AND __proto__ = 1)', '__proto__', 33],
    ['constructor = 1', 'constructor', 0]
  ])('%s', (text, field, position) => {
    const err = errorOf(text)
    expect(err.name).toBe('UnknownFieldError')
    expect(err.field).toBe(field)
    expect(err.position).toBe(position)
  })

  it('suggests a close name', () => {
    expect(errorOf('modalty = "MR"').message).toContain('did you mean modality?')
    expect(errorOf('patientIdd = "x"').message).toContain('did you mean patientID?')
  })
})

describe('type errors', () => {
  it.each([
    ['date = 20030514', 7, 'studyDate', 'cannot be compared with a number'],
    ['date = "yesterday"', 7, 'studyDate', 'not a date'],
    ['date = "2003-05-14"', 7, 'studyDate', 'not a date: write "YYYYMMDD"'],
    ['date = "31Feb2003"', 7, 'studyDate', 'not a date'],
    ['date = "29Feb2003"', 7, 'studyDate', 'not a date'],
    ['date = "20031301"', 7, 'studyDate', 'not a date'],
    ['date = "20030531-20030501"', 7, 'studyDate', 'empty range'],
    ['date < "20030501-20030531"', 5, 'studyDate', 'a date range takes ='],
    ['date != "20030501-"', 5, 'studyDate', 'a date range takes ='],
    ['date IN ("20030501-20030531")', 9, 'studyDate', 'a date range is not allowed here'],
    ['date LIKE "2003*"', 5, 'studyDate', 'LIKE does not apply to a date field'],
    ['modality < "MR"', 9, 'modality', '< does not apply to an enum field'],
    ['bodyPart >= "A"', 9, 'bodyPart', '>= does not apply to an enum field'],
    ['modality BETWEEN "A" AND "B"', 9, 'modality', 'BETWEEN does not apply to an enum field'],
    ['modality = 1', 11, 'modality', 'cannot be compared with a number'],
    ['modality = "MRé"', 11, 'modality', 'printable ASCII'],
    ['rows = "512"', 7, 'rows', 'a number field cannot be compared with a string'],
    ['rows = true', 7, 'rows', 'cannot be compared with a boolean'],
    ['rows = 1e999', 7, 'rows', 'number out of range'],
    ['rows LIKE "5*"', 5, 'rows', 'LIKE does not apply to a number field'],
    ['rows BETWEEN 512 AND 256', 13, 'rows', 'empty range'],
    ['rows IN (1, "2")', 12, 'rows', 'cannot be compared with a string'],
    ['diagnosisKnown = "yes"', 17, 'diagnosisKnown', 'cannot be compared with a string'],
    ['diagnosisKnown > false', 15, 'diagnosisKnown', '> does not apply to a boolean field'],
    ['patientID = 42', 12, 'patientID', 'a string field cannot be compared with a number'],
    ['seriesDescription LIKE 5', 23, '', '']
  ])('%s', (text, position, field, reason) => {
    const err = errorOf(text)
    if (field === '') {
      expect(err.name).toBe('QuerySyntaxError') // LIKE wants a quoted prefix first
    } else {
      expect(err.name).toBe('QueryTypeError')
      expect(err.field).toBe(field)
      expect(err.reason).toContain(reason)
    }
    expect(err.position).toBe(position)
  })
})

describe('limits', () => {
  it('the defaults are the documented constants', () => {
    expect([MAX_QUERY_BYTES, MAX_QUERY_DEPTH, MAX_QUERY_TERMS, MAX_IN_VALUES]).toEqual([4096, 32, 128, 128])
  })

  it('query length, in UTF-8 bytes', () => {
    const base = 'patientID = ""'
    expect(() => parse(`patientID = "${'a'.repeat(MAX_QUERY_BYTES - base.length)}"`)).not.toThrow()
    const err = errorOf(`patientID = "${'a'.repeat(MAX_QUERY_BYTES - base.length + 1)}"`)
    expect(err).toMatchObject({ name: 'QueryLimitError', limit: 'bytes', max: 4096, position: undefined })
    // 2 bytes each in UTF-8: half as many characters fit.
    expect(errorOf(`patientID = "${'é'.repeat(2100)}"`)).toMatchObject({ name: 'QueryLimitError', limit: 'bytes' })
    expect(errorOf('rows = 1'.padEnd(101), { limits: { maxBytes: 100 } })).toMatchObject({ name: 'QueryLimitError', max: 100 })
  })

  it('nesting depth of parentheses and NOTs', () => {
    const nested = (n: number): string => '('.repeat(n) + 'rows = 1' + ')'.repeat(n)
    expect(parse(nested(MAX_QUERY_DEPTH))).toEqual({ type: 'compare', field: 'rows', op: '=', value: 1 })
    const err = errorOf(nested(MAX_QUERY_DEPTH + 1))
    expect(err).toMatchObject({ name: 'QueryLimitError', limit: 'depth', max: 32, position: MAX_QUERY_DEPTH })
    expect(errorOf('NOT '.repeat(40) + 'rows = 1')).toMatchObject({ name: 'QueryLimitError', limit: 'depth', position: 4 * MAX_QUERY_DEPTH })
    // Deep recursion is refused long before the stack would be.
    expect(errorOf('('.repeat(2000))).toMatchObject({ name: 'QueryLimitError', limit: 'depth' })
  })

  it('depth of the AST (AND inside OR inside AND …)', () => {
    // Each level: rows = 1 OR (columns = 1 AND (…)) — two AST levels per parenthesis.
    let q = 'rows = 1'
    for (let i = 0; i < 3; i++) q = `rows = 1 OR columns = 1 AND (${q})`
    expect(() => parse(q, { limits: { maxDepth: 7 } })).not.toThrow()
    const err = errorOf(q, { limits: { maxDepth: 6 } })
    expect(err).toMatchObject({ name: 'QueryLimitError', limit: 'depth', max: 6 })
  })

  it('number of terms', () => {
    const terms = (n: number): string => Array.from({ length: n }, (_, i) => `rows = ${i}`).join(' OR ')
    expect(() => parse(terms(MAX_QUERY_TERMS))).not.toThrow()
    const err = errorOf(terms(MAX_QUERY_TERMS + 1))
    expect(err).toMatchObject({ name: 'QueryLimitError', limit: 'terms', max: 128 })
    expect(err.position).toBe(terms(MAX_QUERY_TERMS).length + ' OR '.length)
  })

  it('values in one IN list', () => {
    const list = (n: number): string => `rows IN (${Array.from({ length: n }, (_, i) => i).join(',')})`
    expect(() => parse(list(MAX_IN_VALUES))).not.toThrow()
    const err = errorOf(list(MAX_IN_VALUES + 1))
    expect(err).toMatchObject({ name: 'QueryLimitError', limit: 'inValues', position: list(MAX_IN_VALUES).length - 1 + 1 })
  })
})
