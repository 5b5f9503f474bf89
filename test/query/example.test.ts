import { describe, it, expect } from 'vitest'
import * as query from '../../src/query/index.js'
import { checkRights, compile, fieldsOf, normalize, parse, toString } from '../../src/query/index.js'

describe('the module doc example (src/query/index.ts) says what the code does', () => {
  it('runs as written', () => {
    const ast = parse('WHERE patientID="MR X" AND date="14May2003"')
    expect(toString(ast)).toBe('patientID = "MR X" AND studyDate = "20030514"')
    expect(fieldsOf(ast)).toEqual(['patientID', 'studyDate'])
    expect(() => { checkRights(ast, { identified: true }) }).not.toThrow()
    expect(() => { checkRights(ast, { identified: false }) }).toThrow(expect.objectContaining({ name: 'IdentifyingFieldError' }))

    const comparable = normalize(parse('bodyPart = "heart" and modality in ("MR", "CT") and diagnosisKnown'))
    expect(toString(comparable)).toBe('bodyPart = "HEART" AND diagnosisKnown = true AND modality IN ("CT", "MR")')
    const match = compile(comparable)
    expect(match({ lfn: 'a', modality: 'MR', bodyPart: 'HEART', diagnosisKnown: true })).toBe(true)
    expect(match({ lfn: 'b', modality: 'MR', bodyPart: 'HEART' })).toBe(false)

    expect(() => parse('modality = "MR" AND rows > ')).toThrow(expect.objectContaining({ name: 'QuerySyntaxError', position: 27 }))
  })
})

describe('error catalogue', () => {
  const classes = Object.entries(query).filter(([name]) => name.endsWith('Error'))

  it('every error is a QueryError whose name is its class name', () => {
    expect(classes.map(([name]) => name).sort()).toEqual([
      'IdentifyingFieldError', 'QueryAstError', 'QueryError', 'QueryLimitError', 'QuerySyntaxError', 'QueryTypeError', 'UnknownFieldError'
    ])
    for (const [name, Class] of classes) {
      expect((Class as { name: string }).name).toBe(name)
      expect(Class === query.QueryError || Object.getPrototypeOf(Class) === query.QueryError).toBe(true)
    }
    const samples: Error[] = [
      new query.QueryError('r', 1, 'q'), new query.QuerySyntaxError('r', 0, 'q'), new query.UnknownFieldError('f'),
      new query.QueryTypeError('f', 'r'), new query.QueryLimitError('depth', 1), new query.QueryAstError('r'),
      new query.IdentifyingFieldError(['patientID'])
    ]
    expect(samples.map(e => e.name)).toEqual(['QueryError', 'QuerySyntaxError', 'UnknownFieldError', 'QueryTypeError', 'QueryLimitError', 'QueryAstError', 'IdentifyingFieldError'])
  })

  it('reason and position never quote query values; message does, for the user only', () => {
    const err = ((): query.QueryError => {
      try { parse('patientID = "MR X" AND rows = "Smith"') } catch (e) { return e as query.QueryError }
      throw new Error('parsed')
    })()
    expect(err.reason).toBe('rows: a number field cannot be compared with a string')
    expect(err.reason).not.toContain('Smith')
    expect(err.message).toContain('MR X')
  })
})
