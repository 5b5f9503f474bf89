/**
 * Type rules of predicates and the canonical form of values (the table in
 * `schema.ts`). The parser calls these on every predicate, so an AST that
 * `parse` returned is well-typed and its values are canonical.
 */
import type { BetweenNode, CompareNode, CompareOp, Literal, PredicateNode } from './ast.js'
import { MAX_ENUM_LENGTH } from './constants.js'
import { parseDate, parseDateRange } from './dates.js'
import { QuerySyntaxError, QueryTypeError } from './errors.js'
import type { FieldSpec } from './schema.js'

/** A literal as written: its kind, its (decoded) text and where it starts. */
export interface RawValue {
  kind: 'string' | 'number' | 'boolean'
  text: string
  position: number
}

const PRINTABLE_ASCII = /^[\x20-\x7E]*$/
const NON_ASCII = /[\u0080-\uFFFF]/

/**
 * The canonical form of a string value of `spec`: Unicode NFC, no surrounding
 * spaces (DICOM pads values with spaces, PS3.5 §6.2), upper-cased when the
 * field compares without case. `trimEnd: false` for LIKE prefixes, where a
 * trailing space is part of the prefix.
 */
export function canonicalString (spec: FieldSpec, text: string, trimEnd = true): string {
  // ASCII is already NFC; skipping ICU for it is what makes evaluation fast.
  const nfc = NON_ASCII.test(text) ? text.normalize('NFC') : text
  const trimmed = trimEnd ? nfc.trim() : nfc.trimStart()
  return spec.caseInsensitive ? trimmed.toUpperCase().normalize('NFC') : trimmed
}

/** "a number field", "an enum field". */
function a (type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function fail (spec: FieldSpec, reason: string, position: number, query: string): never {
  throw new QueryTypeError(spec.name, reason, position, query)
}

function wantKind (spec: FieldSpec, raw: RawValue, query: string): void {
  const expected = spec.type === 'number' ? 'number' : spec.type === 'boolean' ? 'boolean' : 'string'
  if (raw.kind === expected) return
  const hint = spec.type === 'date' ? ' (write dates as "YYYYMMDD" or "14May2003")' : ''
  fail(spec, `${a(spec.type)} field cannot be compared with ${a(raw.kind)}${hint}`, raw.position, query)
}

/** One value of `spec` (no range): the canonical literal, or a typed error at the value. */
export function literalFor (spec: FieldSpec, raw: RawValue, query: string): Literal {
  wantKind(spec, raw, query)
  switch (spec.type) {
    case 'number': {
      const n = Number(raw.text)
      if (!Number.isFinite(n)) fail(spec, 'number out of range', raw.position, query)
      return n === 0 ? 0 : n
    }
    case 'boolean':
      return raw.text.toLowerCase() === 'true'
    case 'date': {
      const date = parseDate(raw.text)
      if (date !== undefined) return date
      const reason = parseDateRange(raw.text) !== undefined
        ? 'a date range is not allowed here'
        : /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(raw.text) ? 'not a date: write "YYYYMMDD" ("-" marks a DICOM range)' : 'not a date (YYYYMMDD or 14May2003)'
      return fail(spec, reason, raw.position, query)
    }
    case 'enum':
      if (!PRINTABLE_ASCII.test(raw.text) || raw.text.trim().length > MAX_ENUM_LENGTH) {
        fail(spec, `an enum value is printable ASCII of at most ${MAX_ENUM_LENGTH} characters`, raw.position, query)
      }
      return canonicalString(spec, raw.text)
    case 'string':
      return canonicalString(spec, raw.text)
  }
}

const ORDERING = new Set<CompareOp>(['<', '>', '<=', '>='])

function ordered (spec: FieldSpec): boolean {
  return spec.type === 'string' || spec.type === 'number' || spec.type === 'date'
}

/** `field op value`; on a date field `= "A-B"`, `= "A-"`, `= "-B"` become BETWEEN, `>=`, `<=`. */
export function comparePredicate (spec: FieldSpec, op: CompareOp, opPosition: number, raw: RawValue, query: string): CompareNode | BetweenNode {
  if (ORDERING.has(op) && !ordered(spec)) fail(spec, `${op} does not apply to ${a(spec.type)} field (use = != IN${spec.type === 'enum' ? ' LIKE' : ''})`, opPosition, query)
  if (spec.type === 'date' && raw.kind === 'string' && parseDate(raw.text) === undefined) {
    const range = parseDateRange(raw.text)
    if (range !== undefined) {
      if (op !== '=') fail(spec, `a date range takes =, not ${op}`, opPosition, query)
      if (range.low !== undefined && range.high !== undefined) return between(spec, range.low, range.high, raw.position, query)
      if (range.low !== undefined) return { type: 'compare', field: spec.name, op: '>=', value: range.low }
      return { type: 'compare', field: spec.name, op: '<=', value: range.high ?? '' }
    }
  }
  return { type: 'compare', field: spec.name, op, value: literalFor(spec, raw, query) }
}

function between (spec: FieldSpec, low: Literal, high: Literal, position: number, query: string): BetweenNode {
  if (low > high) fail(spec, 'empty range: the low bound is above the high bound', position, query)
  return { type: 'between', field: spec.name, low, high }
}

/** `field BETWEEN low AND high`. */
export function betweenPredicate (spec: FieldSpec, keywordPosition: number, low: RawValue, high: RawValue, query: string): BetweenNode {
  if (!ordered(spec)) fail(spec, `BETWEEN does not apply to ${a(spec.type)} field`, keywordPosition, query)
  return between(spec, literalFor(spec, low, query), literalFor(spec, high, query), low.position, query)
}

/** `field IN (…)`. */
export function inPredicate (spec: FieldSpec, values: RawValue[], query: string): PredicateNode {
  return { type: 'in', field: spec.name, values: values.map(v => literalFor(spec, v, query)) }
}

/** `field LIKE "prefix*"`: a prefix match only, the one `*` at the end. */
export function likePredicate (spec: FieldSpec, keywordPosition: number, raw: RawValue, query: string): PredicateNode {
  if (spec.type !== 'string' && spec.type !== 'enum') fail(spec, `LIKE does not apply to ${a(spec.type)} field`, keywordPosition, query)
  wantKind(spec, raw, query)
  const star = raw.text.indexOf('*')
  if (star !== raw.text.length - 1) {
    throw new QuerySyntaxError('LIKE takes a prefix ending in * (no other wildcard)', raw.position, query)
  }
  const prefix = canonicalString(spec, raw.text.slice(0, -1), false)
  if (spec.type === 'enum' && (!PRINTABLE_ASCII.test(prefix) || prefix.length > MAX_ENUM_LENGTH)) {
    fail(spec, `an enum value is printable ASCII of at most ${MAX_ENUM_LENGTH} characters`, raw.position, query)
  }
  return { type: 'like', field: spec.name, prefix }
}
