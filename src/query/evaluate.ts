/**
 * Evaluating a query against one metadata record (the fields of one series,
 * keyed by canonical field name).
 *
 * Record values are read by the field's type, as DICOM stores them:
 * - string/enum: a string (or a number, as its decimal text), NFC, trimmed
 *   (PS3.5 §6.2 space padding), upper-cased when the field ignores case;
 * - number: a number, or a numeric string (DICOM DS/IS are text);
 * - date: `YYYYMMDD`, `YYYY.MM.DD` or `YYYY-MM-DD` (or the number 20030514);
 * - boolean: a boolean, or the string `true`/`false` (any case).
 *
 * **Missing values.** A field that is absent, `null`, `undefined`, or not
 * readable as its type is *missing*, and every predicate on a missing field
 * is false — `=`, `!=`, `<`, BETWEEN, IN, LIKE alike. `NOT` is plain logical
 * negation, so `NOT modality = "CT"` is true for a record without modality
 * while `modality != "CT"` is false. String order is UTF-16 code unit order.
 *
 * `matches` walks the AST each call; `compile` builds the predicate once
 * (sets for IN, values pre-read) for evaluating many records. Both agree on
 * every record (property-tested).
 */
import type { CompareOp, Literal, PredicateNode, QueryNode } from './ast.js'
import { canonicalString } from './checks.js'
import { recordDate } from './dates.js'
import { SCHEMA, type FieldSpec } from './schema.js'

export type RecordValue = string | number | boolean | null | undefined
export type MetadataRecord = Readonly<Record<string, RecordValue>>
export type RecordPredicate = (record: MetadataRecord) => boolean

type Reader = (record: MetadataRecord) => Literal | undefined

/** A reader of one field, specialised by type once (see the module doc for the forms accepted). */
function readerFor (spec: FieldSpec): Reader {
  const name = spec.name
  // Own properties only: a record built on a prototype must not inherit values.
  const raw = (record: MetadataRecord): string | number | boolean | undefined => {
    const v = record[name]
    return v === null || v === undefined || !Object.hasOwn(record, name) ? undefined : v
  }
  switch (spec.type) {
    case 'string':
    case 'enum':
      return r => {
        const v = raw(r)
        if (typeof v === 'string') return canonicalString(spec, v)
        return typeof v === 'number' ? canonicalString(spec, String(v)) : undefined
      }
    case 'number':
      return r => {
        const v = raw(r)
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
        return Number.isFinite(n) ? n : undefined
      }
    case 'date':
      return r => {
        const v = raw(r)
        return typeof v === 'string' || typeof v === 'number' ? recordDate(v) : undefined
      }
    case 'boolean':
      return r => {
        const v = raw(r)
        if (typeof v === 'boolean') return v
        const s = typeof v === 'string' ? v.trim().toLowerCase() : ''
        return s === 'true' ? true : s === 'false' ? false : undefined
      }
  }
}

const READERS: ReadonlyMap<string, Reader> = new Map(SCHEMA.map(spec => [spec.name, readerFor(spec)]))

function readerOf (field: string): Reader {
  const read = READERS.get(field)
  // Only a hand-built AST can get here; `parse` and `validateQuery` never return one.
  if (read === undefined) throw new TypeError(`field ${field} is not in the schema`)
  return read
}

/** The value of `spec` in `record`, in the canonical form the AST uses, or `undefined` if missing. */
export function readValue (spec: FieldSpec, record: MetadataRecord): Literal | undefined {
  return (READERS.get(spec.name) ?? readerFor(spec))(record)
}

function compare (op: CompareOp, a: Literal, b: Literal): boolean {
  switch (op) {
    case '=': return a === b
    case '!=': return a !== b
    case '<': return a < b
    case '>': return a > b
    case '<=': return a <= b
    case '>=': return a >= b
  }
}

function predicateMatches (node: PredicateNode, record: MetadataRecord): boolean {
  const value = readerOf(node.field)(record)
  if (value === undefined) return false
  switch (node.type) {
    case 'compare': return compare(node.op, value, node.value)
    case 'between': return value >= node.low && value <= node.high
    case 'in': return node.values.includes(value)
    case 'like': return typeof value === 'string' && value.startsWith(node.prefix)
  }
}

/** Whether `record` satisfies `ast` (see the module doc for missing fields). */
export function matches (ast: QueryNode, record: MetadataRecord): boolean {
  switch (ast.type) {
    case 'and': return ast.operands.every(o => matches(o, record))
    case 'or': return ast.operands.some(o => matches(o, record))
    case 'not': return !matches(ast.operand, record)
    default: return predicateMatches(ast, record)
  }
}

function compilePredicate (node: PredicateNode): RecordPredicate {
  const read = readerOf(node.field)
  switch (node.type) {
    case 'compare': {
      const { op, value: b } = node
      switch (op) {
        case '=': return r => { const a = read(r); return a !== undefined && a === b }
        case '!=': return r => { const a = read(r); return a !== undefined && a !== b }
        case '<': return r => { const a = read(r); return a !== undefined && a < b }
        case '>': return r => { const a = read(r); return a !== undefined && a > b }
        case '<=': return r => { const a = read(r); return a !== undefined && a <= b }
        case '>=': return r => { const a = read(r); return a !== undefined && a >= b }
      }
      break
    }
    case 'between': {
      const { low, high } = node
      return r => { const a = read(r); return a !== undefined && a >= low && a <= high }
    }
    case 'in': {
      const set = new Set<Literal>(node.values)
      return r => { const a = read(r); return a !== undefined && set.has(a) }
    }
    case 'like': {
      const { prefix } = node
      return r => { const a = read(r); return typeof a === 'string' && a.startsWith(prefix) }
    }
  }
}

/** A predicate equivalent to `matches(ast, ·)`, built once. */
export function compile (ast: QueryNode): RecordPredicate {
  switch (ast.type) {
    case 'and': {
      const parts = ast.operands.map(compile)
      return r => parts.every(p => p(r))
    }
    case 'or': {
      const parts = ast.operands.map(compile)
      return r => parts.some(p => p(r))
    }
    case 'not': {
      const inner = compile(ast.operand)
      return r => !inner(r)
    }
    default:
      return compilePredicate(ast)
  }
}
