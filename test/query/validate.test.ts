import { describe, it, expect } from 'vitest'
import { decode, encode } from 'cborg'
import { parse, toString, validateQuery } from '../../src/query/index.js'

function errorOf (value: unknown): Error {
  try {
    validateQuery(value)
  } catch (err) {
    return err as Error
  }
  throw new Error('accepted')
}

describe('validateQuery: an AST received from another site', () => {
  const ast = parse('WHERE patientID="MR X" AND (date="20030501-20030531" OR NOT modality IN ("CT","MR")) AND seriesDescription LIKE "T1*" AND diagnosisKnown')

  it('accepts what parse returns, through JSON and canonical CBOR, as a fresh copy', () => {
    const viaJson = validateQuery(JSON.parse(JSON.stringify(ast)))
    expect(viaJson).toEqual(ast)
    const bytes = encode(ast)
    expect(validateQuery(decode(bytes))).toEqual(ast)
    expect(encode(validateQuery(decode(bytes)))).toEqual(bytes)
    const input = JSON.parse(JSON.stringify(ast))
    const out = validateQuery(input)
    expect(out).not.toBe(input)
  })

  it.each([
    ['not an object', 'x', 'QueryAstError'],
    ['null', null, 'QueryAstError'],
    ['an array', [], 'QueryAstError'],
    ['unknown type', { type: 'xor', operands: [] }, 'QueryAstError'],
    ['one-operand AND', { type: 'and', operands: [{ type: 'compare', field: 'rows', op: '=', value: 1 }] }, 'QueryAstError'],
    ['extra member', { type: 'compare', field: 'rows', op: '=', value: 1, extra: 1 }, 'QueryAstError'],
    ['missing member', { type: 'compare', field: 'rows', op: '=' }, 'QueryAstError'],
    ['bad operator', { type: 'compare', field: 'rows', op: '~', value: 1 }, 'QueryAstError'],
    ['non-finite number', { type: 'compare', field: 'rows', op: '=', value: Number.POSITIVE_INFINITY }, 'QueryAstError'],
    ['null value', { type: 'compare', field: 'rows', op: '=', value: null }, 'QueryAstError'],
    ['field not a name', { type: 'compare', field: 'rows = 1 OR rows', op: '=', value: 1 }, 'QueryAstError'],
    ['empty IN', { type: 'in', field: 'rows', values: [] }, 'QueryAstError'],
    ['star in LIKE prefix', { type: 'like', field: 'lfn', prefix: 'a*' }, 'QueryAstError'],
    ['a class instance', new (class { type = 'not'; operand = {} })(), 'QueryAstError'],
    ['unknown field', { type: 'compare', field: 'patientAddress', op: '=', value: 'x' }, 'UnknownFieldError'],
    ['alias instead of canonical name', { type: 'compare', field: 'date', op: '=', value: '20030514' }, 'QueryAstError'],
    ['value not canonical', { type: 'compare', field: 'modality', op: '=', value: 'mr' }, 'QueryAstError'],
    ['date not canonical', { type: 'compare', field: 'studyDate', op: '=', value: '14May2003' }, 'QueryAstError'],
    ['type error', { type: 'compare', field: 'rows', op: '=', value: '512' }, 'QueryTypeError'],
    ['ordering on enum', { type: 'compare', field: 'modality', op: '<', value: 'MR' }, 'QueryTypeError'],
    ['empty range', { type: 'between', field: 'rows', low: 2, high: 1 }, 'QueryTypeError'],
    ['too many IN values', { type: 'in', field: 'rows', values: Array.from({ length: 129 }, (_, i) => i) }, 'QueryLimitError'],
    ['too many terms', { type: 'or', operands: Array.from({ length: 129 }, (_, i) => ({ type: 'compare', field: 'rows', op: '=', value: i })) }, 'QueryLimitError'],
    ['too long', { type: 'compare', field: 'patientID', op: '=', value: 'x'.repeat(5000) }, 'QueryAstError'],
    ['too long once printed', { type: 'in', field: 'patientID', values: ['x'.repeat(3000), 'y'.repeat(3000)] }, 'QueryLimitError']
  ])('refuses %s', (_, value, name) => {
    expect(errorOf(value).name).toBe(name)
  })

  it('refuses a deep AST before walking it all', () => {
    let deep: unknown = { type: 'compare', field: 'rows', op: '=', value: 1 }
    for (let i = 0; i < 10_000; i++) deep = { type: 'not', operand: deep }
    expect(errorOf(deep)).toMatchObject({ name: 'QueryLimitError', limit: 'depth' })
  })

  it('does not let a __proto__ member through', () => {
    const value = JSON.parse('{"type":"compare","field":"rows","op":"=","value":1,"__proto__":{"x":1}}')
    expect(errorOf(value).name).toBe('QueryAstError')
  })

  it('prints and re-parses to the same AST', () => {
    expect(parse(toString(ast))).toEqual(ast)
  })
})
