import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { decode, encode } from 'cborg'
import { FIELDS, compile, matches, normalize, parse, toString, validateQuery, type FieldSpec } from '../../src/query/index.js'
import { astArb, recordArb } from './arbitraries.js'

// Modest run counts: the whole area stays well under a few seconds.
const RUNS = { numRuns: 300 }

/** A few fields of each type, for the semantic properties (so records and queries meet often). */
const SOME: FieldSpec[] = ['modality', 'rows', 'studyDate', 'diagnosisKnown', 'seriesDescription', 'patientName']
  .map(n => FIELDS.get(n) as FieldSpec)

describe('round trip (fast-check)', () => {
  it('parse(toString(ast)) deep-equals ast', () => {
    fc.assert(fc.property(astArb(false), ast => {
      expect(parse(toString(ast))).toEqual(ast)
    }), RUNS)
  })

  it('the AST survives JSON and canonical CBOR, and validateQuery accepts it', () => {
    fc.assert(fc.property(astArb(false), ast => {
      expect(validateQuery(JSON.parse(JSON.stringify(ast)))).toEqual(ast)
      expect(validateQuery(decode(encode(ast)))).toEqual(ast)
    }), { numRuns: 150 })
  })

  it('normalize is idempotent and its text re-parses to it', () => {
    fc.assert(fc.property(astArb(false), ast => {
      const n = normalize(ast)
      expect(normalize(n)).toEqual(n)
      expect(parse(toString(n))).toEqual(n)
    }), RUNS)
  })

  it('normalize forgets operand order and duplicates', () => {
    fc.assert(fc.property(astArb(true, SOME), astArb(true, SOME), (a, b) => {
      const ab = normalize({ type: 'and', operands: [a, b, a] })
      expect(normalize({ type: 'and', operands: [b, a] })).toEqual(ab)
      expect(normalize({ type: 'or', operands: [{ type: 'or', operands: [b, a] }, b] })).toEqual(normalize({ type: 'or', operands: [a, b] }))
    }), { numRuns: 150 })
  })
})

describe('evaluation (fast-check)', () => {
  it('compile agrees with matches, and normalize keeps the meaning', () => {
    fc.assert(fc.property(astArb(true, SOME), fc.array(recordArb(SOME), { minLength: 1, maxLength: 8 }), (ast, records) => {
      const predicate = compile(ast)
      const canonical = normalize(ast)
      for (const r of records) {
        const expected = matches(ast, r)
        expect(predicate(r)).toBe(expected)
        expect(matches(canonical, r)).toBe(expected)
      }
    }), RUNS)
  })

  it('NOT is logical negation, even on missing fields', () => {
    fc.assert(fc.property(astArb(true, SOME), recordArb(SOME), (ast, r) => {
      expect(matches({ type: 'not', operand: ast }, r)).toBe(!matches(ast, r))
    }), RUNS)
  })
})
