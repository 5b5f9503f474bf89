import { describe, it, expect } from 'vitest'
import { canonicalQuery, parse, toString, type QueryNode } from '../../src/query/index.js'

const cmp = (field: string, op: string, value: string | number | boolean): QueryNode => ({ type: 'compare', field, op, value } as QueryNode)

describe('parse: the paper\'s query (§4.5)', () => {
  it('reads WHERE patientID="MR X" AND date="14May2003"', () => {
    const ast = parse('WHERE patientID="MR X" AND date="14May2003"')
    expect(ast).toEqual({ type: 'and', operands: [cmp('patientID', '=', 'MR X'), cmp('studyDate', '=', '20030514')] })
    expect(toString(ast)).toBe('patientID = "MR X" AND studyDate = "20030514"')
  })

  it('is the same query without WHERE, in any case of keywords and field names', () => {
    const expected = parse('WHERE patientID="MR X" AND date="14May2003"')
    expect(parse('patientID="MR X" AND date="14May2003"')).toEqual(expected)
    expect(parse('where PATIENTID = "MR X" and Date = "14 may 2003"')).toEqual(expected)
    expect(parse('  WhErE\n\tpatientid="MR X"\r\nAnD STUDYDATE="20030514"  ')).toEqual(expected)
  })
})

describe('parse: operators', () => {
  it.each([
    ['rows = 512', cmp('rows', '=', 512)],
    ['rows != 512', cmp('rows', '!=', 512)],
    ['rows <> 512', cmp('rows', '!=', 512)],
    ['rows < 512', cmp('rows', '<', 512)],
    ['rows > 512', cmp('rows', '>', 512)],
    ['rows <= 512', cmp('rows', '<=', 512)],
    ['rows >= 512', cmp('rows', '>=', 512)],
    ['echoTime>=-1.5e1', cmp('echoTime', '>=', -15)],
    ['sliceThickness = .5', cmp('sliceThickness', '=', 0.5)],
    ['sliceThickness = -0', cmp('sliceThickness', '=', 0)],
    ['seriesDescription < "T2"', cmp('seriesDescription', '<', 'T2')],
    ['studyDate > "01Jan2000"', cmp('studyDate', '>', '20000101')],
    ['diagnosisKnown = true', cmp('diagnosisKnown', '=', true)],
    ['diagnosisKnown != FALSE', cmp('diagnosisKnown', '!=', false)],
    ['diagnosisKnown', cmp('diagnosisKnown', '=', true)]
  ])('%s', (text, ast) => {
    expect(parse(text)).toEqual(ast)
  })

  it('BETWEEN, and NOT BETWEEN', () => {
    expect(parse('rows BETWEEN 256 AND 512')).toEqual({ type: 'between', field: 'rows', low: 256, high: 512 })
    expect(parse('rows not between 256 and 512')).toEqual({ type: 'not', operand: { type: 'between', field: 'rows', low: 256, high: 512 } })
    expect(parse('studyDate BETWEEN "1May2003" AND "20030531"')).toEqual({ type: 'between', field: 'studyDate', low: '20030501', high: '20030531' })
    // BETWEEN's AND is not the logical AND.
    expect(parse('rows BETWEEN 1 AND 2 AND columns = 3')).toEqual({ type: 'and', operands: [{ type: 'between', field: 'rows', low: 1, high: 2 }, cmp('columns', '=', 3)] })
  })

  it('DICOM date ranges, closed and open (PS3.4 C.2.2.2.5)', () => {
    expect(parse('date = "20030501-20030531"')).toEqual({ type: 'between', field: 'studyDate', low: '20030501', high: '20030531' })
    expect(parse('date = "1May2003 - 31May2003"')).toEqual({ type: 'between', field: 'studyDate', low: '20030501', high: '20030531' })
    expect(parse('date = "20030501-"')).toEqual(cmp('studyDate', '>=', '20030501'))
    expect(parse('date = "-20030531"')).toEqual(cmp('studyDate', '<=', '20030531'))
    expect(parse('patientBirthDate = "-1Jan1950"')).toEqual(cmp('patientBirthDate', '<=', '19500101'))
  })

  it('dates in the paper\'s style, normalized to YYYYMMDD', () => {
    expect(parse('date = "14May2003"')).toEqual(cmp('studyDate', '=', '20030514'))
    expect(parse('date = "1 january 2004"')).toEqual(cmp('studyDate', '=', '20040101'))
    expect(parse('date = "29Feb2004"')).toEqual(cmp('studyDate', '=', '20040229'))
    expect(parse('date = "29FEB2000"')).toEqual(cmp('studyDate', '=', '20000229'))
  })

  it('LIKE: prefix match', () => {
    expect(parse('seriesDescription LIKE "T1 *"')).toEqual({ type: 'like', field: 'seriesDescription', prefix: 'T1 ' })
    expect(parse('seriesDescription LIKE "*"')).toEqual({ type: 'like', field: 'seriesDescription', prefix: '' })
    expect(parse('bodyPart like "card*"')).toEqual({ type: 'like', field: 'bodyPart', prefix: 'CARD' })
    expect(parse('manufacturer NOT LIKE "GE*"')).toEqual({ type: 'not', operand: { type: 'like', field: 'manufacturer', prefix: 'GE' } })
  })

  it('IN, and NOT IN', () => {
    expect(parse('modality IN ("CT","MR")')).toEqual({ type: 'in', field: 'modality', values: ['CT', 'MR'] })
    expect(parse('modality in ( "ct" , "mr" , "CT" )')).toEqual({ type: 'in', field: 'modality', values: ['CT', 'MR', 'CT'] })
    expect(parse('rows IN (256)')).toEqual({ type: 'in', field: 'rows', values: [256] })
    expect(parse('date IN ("14May2003", "20030515")')).toEqual({ type: 'in', field: 'studyDate', values: ['20030514', '20030515'] })
    expect(parse('modality NOT IN ("US")')).toEqual({ type: 'not', operand: { type: 'in', field: 'modality', values: ['US'] } })
  })

  it('enum and person-name values are upper-cased, strings trimmed and NFC', () => {
    expect(parse('modality = " mr "')).toEqual(cmp('modality', '=', 'MR'))
    expect(parse('patientName = "Doe^John"')).toEqual(cmp('patientName', '=', 'DOE^JOHN'))
    expect(parse('patientID = "  abc "')).toEqual(cmp('patientID', '=', 'abc'))
    expect(parse('seriesDescription = "Cafe\\u0301"')).toEqual(cmp('seriesDescription', '=', 'Café'))
  })

  it('string escapes (RFC 8259 §7)', () => {
    expect(parse('patientID = "a\\"b\\\\c\\/d\\n\\t\\u00e9"')).toEqual(cmp('patientID', '=', 'a"b\\c/d\n\té'))
  })

  it('aliases: studyType is studyDescription', () => {
    expect(parse('studyType = "CARDIAC"')).toEqual(cmp('studyDescription', '=', 'CARDIAC'))
  })
})

describe('parse: precedence and parentheses', () => {
  const a = cmp('rows', '=', 1)
  const b = cmp('columns', '=', 2)
  const c = cmp('slices', '=', 3)

  it('AND binds tighter than OR', () => {
    expect(parse('rows = 1 OR columns = 2 AND slices = 3')).toEqual({ type: 'or', operands: [a, { type: 'and', operands: [b, c] }] })
    expect(parse('rows = 1 AND columns = 2 OR slices = 3')).toEqual({ type: 'or', operands: [{ type: 'and', operands: [a, b] }, c] })
  })

  it('NOT binds tighter than AND', () => {
    expect(parse('NOT rows = 1 AND columns = 2')).toEqual({ type: 'and', operands: [{ type: 'not', operand: a }, b] })
    expect(parse('NOT rows = 1 OR columns = 2')).toEqual({ type: 'or', operands: [{ type: 'not', operand: a }, b] })
    expect(parse('not not rows = 1')).toEqual({ type: 'not', operand: { type: 'not', operand: a } })
  })

  it('parentheses override precedence', () => {
    expect(parse('(rows = 1 OR columns = 2) AND slices = 3')).toEqual({ type: 'and', operands: [{ type: 'or', operands: [a, b] }, c] })
    expect(parse('NOT (rows = 1 AND columns = 2)')).toEqual({ type: 'not', operand: { type: 'and', operands: [a, b] } })
    expect(parse('((rows = 1))')).toEqual(a)
  })

  it('chains are n-ary; written nesting is kept (normalize flattens it)', () => {
    expect(parse('rows = 1 AND columns = 2 AND slices = 3')).toEqual({ type: 'and', operands: [a, b, c] })
    expect(parse('(rows = 1 AND columns = 2) AND slices = 3')).toEqual({ type: 'and', operands: [{ type: 'and', operands: [a, b] }, c] })
  })
})

describe('toString: canonical text', () => {
  it.each([
    ['where modality in ("mr","ct") and not (rows<256 or columns<256)', 'modality IN ("MR", "CT") AND NOT (rows < 256 OR columns < 256)'],
    ['(rows = 1 OR columns = 2) AND slices = 3', '(rows = 1 OR columns = 2) AND slices = 3'],
    ['rows = 1 OR (columns = 2 OR slices = 3)', 'rows = 1 OR (columns = 2 OR slices = 3)'],
    ['rows = 1 OR columns = 2 AND slices = 3', 'rows = 1 OR columns = 2 AND slices = 3'],
    ['modality not in ("US")', 'NOT modality IN ("US")'],
    ['kvp = 1e21', 'kvp = 1e+21'],
    ['patientID = "a\\"\\u0001"', 'patientID = "a\\"\\u0001"'],
    ['seriesDescription LIKE "T1*"', 'seriesDescription LIKE "T1*"'],
    ['date = "20030501-"', 'studyDate >= "20030501"']
  ])('%s', (text, printed) => {
    expect(toString(parse(text))).toBe(printed)
    expect(parse(printed)).toEqual(parse(text))
  })

  it('canonicalQuery: equivalent queries give one string', () => {
    const one = canonicalQuery('modality IN ("MR","CT") AND bodyPart = "HEART" AND diagnosisKnown')
    expect(one).toBe('bodyPart = "HEART" AND diagnosisKnown = true AND modality IN ("CT", "MR")')
    expect(canonicalQuery('WHERE diagnosisKnown = TRUE and (bodyPart="heart" AND modality in ("ct", "mr", "MR"))')).toBe(one)
    expect(canonicalQuery('NOT NOT rows BETWEEN 5 AND 5')).toBe('rows = 5')
  })
})
