/**
 * fast-check generators of query ASTs in the form `parse` returns (canonical
 * values, known fields, types respected), and of metadata records.
 * `small: true` draws values from tiny pools so that queries and records
 * often meet (for comparing evaluators); otherwise values are wide (any
 * Unicode, any finite double, any calendar date) to stress printing.
 */
import fc from 'fast-check'
import { canonicalString } from '../../src/query/checks.js'
import { SCHEMA, type CompareOp, type FieldSpec, type Literal, type MetadataRecord, type QueryNode } from '../../src/query/index.js'

const ALL_OPS: CompareOp[] = ['=', '!=', '<', '>', '<=', '>=']

function dateText (d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`
}

const wideDate = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map(dateText)

export function literal (spec: FieldSpec, small: boolean): fc.Arbitrary<Literal> {
  switch (spec.type) {
    case 'number':
      return small
        ? fc.constantFrom(0, 1, 2.5, -3, 512)
        : fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map(n => n === 0 ? 0 : n))
    case 'boolean':
      return fc.boolean()
    case 'date':
      return small ? fc.constantFrom('20030513', '20030514', '20030601', '19991231') : wideDate
    case 'enum':
      return (small ? fc.constantFrom('MR', 'CT', 'mr', ' US', 'M') : fc.string({ maxLength: 64 })).map(s => canonicalString(spec, s))
    case 'string':
      return (small ? fc.constantFrom('A', 'AB', 'b', ' a ', '', 'é') : fc.string({ unit: 'binary', maxLength: 20 })).map(s => canonicalString(spec, s))
  }
}

function prefix (spec: FieldSpec, small: boolean): fc.Arbitrary<string> {
  const raw = small ? fc.constantFrom('', 'A', 'M', 'a') : spec.type === 'enum' ? fc.string({ maxLength: 64 }) : fc.string({ unit: 'binary', maxLength: 20 })
  return raw.map(s => canonicalString(spec, s.replaceAll('*', ''), false))
}

function predicate (spec: FieldSpec, small: boolean): fc.Arbitrary<QueryNode> {
  const ordered = spec.type === 'string' || spec.type === 'number' || spec.type === 'date'
  const value = literal(spec, small)
  const forms: Array<fc.Arbitrary<QueryNode>> = [
    fc.record({ op: fc.constantFrom(...(ordered ? ALL_OPS : ['=', '!='] as CompareOp[])), value })
      .map(({ op, value }) => ({ type: 'compare', field: spec.name, op, value })),
    fc.array(value, { minLength: 1, maxLength: 4 }).map(values => ({ type: 'in', field: spec.name, values }))
  ]
  if (ordered) {
    forms.push(fc.tuple(value, value).map(([a, b]) => (a <= b ? [a, b] : [b, a])).map(([low, high]) => ({ type: 'between', field: spec.name, low: low as Literal, high: high as Literal })))
  }
  if (spec.type === 'string' || spec.type === 'enum') {
    forms.push(prefix(spec, small).map(p => ({ type: 'like', field: spec.name, prefix: p })))
  }
  return fc.oneof(...forms)
}

export function predicateArb (small: boolean, fields: readonly FieldSpec[] = SCHEMA): fc.Arbitrary<QueryNode> {
  return fc.constantFrom(...fields).chain(spec => predicate(spec, small))
}

/** ASTs up to depth 4, at most 3 operands per AND/OR (≤ 27 terms, well inside the limits). */
export function astArb (small: boolean, fields: readonly FieldSpec[] = SCHEMA): fc.Arbitrary<QueryNode> {
  const { node } = fc.letrec<{ node: QueryNode }>(tie => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      predicateArb(small, fields),
      tie('node').map((operand): QueryNode => ({ type: 'not', operand })),
      fc.record({ type: fc.constantFrom('and' as const, 'or' as const), operands: fc.array(tie('node'), { minLength: 2, maxLength: 3 }) }).map((n): QueryNode => n)
    )
  }))
  return node
}

/** Records over `fields`, with values from the same small pools (and sometimes missing, null or in DICOM text form). */
export function recordArb (fields: readonly FieldSpec[]): fc.Arbitrary<MetadataRecord> {
  const entries = fields.map(spec => {
    const raw: fc.Arbitrary<string | number | boolean | null | undefined> = fc.oneof(
      literal(spec, true),
      literal(spec, true).map(v => typeof v === 'number' ? ` ${v} ` : v),
      fc.constantFrom(null, undefined, 'junk')
    )
    return [spec.name, raw] as const
  })
  return fc.record(Object.fromEntries(entries), { requiredKeys: [] }) as fc.Arbitrary<MetadataRecord>
}
