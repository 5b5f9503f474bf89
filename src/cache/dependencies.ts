/**
 * What a cached request result depends on, and whether a registered or
 * changed series could alter it. Pure: no I/O.
 *
 * A result depends on the set of series its query could match. That set is
 * over-approximated as a disjunction of conjunctions of per-field constraints
 * (`{ terms: [{ modality: [eq MR], bodyPart: [eq HEART] }, …] }`); a change to
 * a series drops the result when the series, before or after the change,
 * *could* satisfy one term. Every doubt resolves to "could": a field the series
 * does not describe, a value of another type, a letter-bearing string under
 * `<`/`>`, a `NOT`, a LIKE pattern beyond its literal prefix, a query shape not
 * understood (`{ any: true }`: dropped on every change).
 */
import { MAX_DEPENDENCY_TERMS } from './constants.js'
import type { JsonValue } from './types.js'

export type Scalar = string | number

export type Constraint =
  | { op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', value: Scalar }
  | { op: 'prefix', value: string }
  | { op: 'range', from?: Scalar, to?: Scalar }
  | { op: 'in', values: Scalar[] }

/** Every listed field must satisfy all its constraints. */
export type Conjunction = Record<string, Constraint[]>

export type Dependencies = { any: true } | { terms: Conjunction[] }

export type FieldValue = Scalar | boolean | null | undefined | readonly Scalar[]

/** Descriptive fields of one series (modality, bodyPart, site, studyDate…). */
export type SeriesFields = Readonly<Record<string, FieldValue>>

/** A series was registered (`previous` absent) or changed (`previous` = its fields before). */
export interface SeriesChange {
  fields: SeriesFields
  previous?: SeriesFields
}

export const DEPENDS_ON_EVERYTHING: Dependencies = { any: true }

const COMPARISONS: Readonly<Record<string, Constraint['op']>> = {
  '=': 'eq', '==': 'eq', eq: 'eq', '!=': 'ne', '<>': 'ne', ne: 'ne', '<': 'lt', lt: 'lt', '<=': 'le', le: 'le', '>': 'gt', gt: 'gt', '>=': 'ge', ge: 'ge'
}
/** DICOM range matching of dates and times (PS3.4 §C.2.2.2.5): `20030101-20031231`, `-2003`, `2003-`. */
const DICOM_RANGE = /^(\d[\d.]*)?-(\d[\d.]*)?$/
const WILDCARD = /[%*_?]/

function isScalar (value: unknown): value is Scalar {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

function record (value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
}

/** One comparison `{ field, op, value | from/to | values }` as a constraint; `undefined` = unconstrained. */
function comparison (node: Record<string, unknown>): Constraint | undefined {
  const op = typeof node.op === 'string' ? node.op.toLowerCase() : undefined
  const { value } = node
  if (op === 'like') {
    if (typeof value !== 'string') return undefined
    const wildcard = value.search(WILDCARD)
    return wildcard < 0 ? { op: 'eq', value } : { op: 'prefix', value: value.slice(0, wildcard) }
  }
  if (op === 'range' || op === 'between') {
    const c: Constraint = { op: 'range' }
    if (isScalar(node.from)) c.from = node.from
    if (isScalar(node.to)) c.to = node.to
    return c
  }
  if (op === 'in') return Array.isArray(node.values) && node.values.every(isScalar) ? { op: 'in', values: node.values } : undefined
  const mapped = op === undefined ? undefined : COMPARISONS[op]
  if (mapped === undefined || !isScalar(value)) return undefined
  if (mapped === 'eq' && typeof value === 'string') {
    const range = DICOM_RANGE.exec(value.trim())
    if (range !== null && value.trim() !== '-') {
      const c: Constraint = { op: 'range' }
      if (range[1] !== undefined) c.from = range[1]
      if (range[2] !== undefined) c.to = range[2]
      return c
    }
  }
  return { op: mapped, value } as Constraint
}

function and (a: Conjunction[], b: Conjunction[]): Conjunction[] | undefined {
  if (a.length * b.length > MAX_DEPENDENCY_TERMS) return undefined
  const out: Conjunction[] = []
  for (const x of a) {
    for (const y of b) {
      const merged: Conjunction = { ...x }
      for (const [field, cs] of Object.entries(y)) merged[field] = [...(merged[field] ?? []), ...cs]
      out.push(merged)
    }
  }
  return out
}

/** DNF terms of a query node; `undefined` when the shape is not understood or too large. */
function terms (node: unknown, depth: number): Conjunction[] | undefined {
  const r = record(node)
  if (r === undefined || depth > 64) return undefined
  if ('where' in r) return terms(r.where, depth + 1)
  const children = (list: unknown): Conjunction[][] | undefined => {
    if (!Array.isArray(list)) return undefined
    const out: Conjunction[][] = []
    for (const child of list) {
      const t = terms(child, depth + 1)
      if (t === undefined) return undefined
      out.push(t)
    }
    return out
  }
  if ('and' in r || 'or' in r || 'not' in r) {
    if (Object.keys(r).length !== 1) return undefined
    // NOT: constrains nothing we can use soundly; treat as "true".
    if ('not' in r) return terms(r.not, depth + 1) === undefined ? undefined : [{}]
    const parts = children(r.and ?? r.or)
    if (parts === undefined) return undefined
    if ('or' in r) {
      const flat = parts.flat()
      return flat.length > MAX_DEPENDENCY_TERMS ? undefined : flat
    }
    let acc: Conjunction[] | undefined = [{}]
    for (const part of parts) {
      acc = and(acc, part)
      if (acc === undefined) return undefined
    }
    return acc
  }
  if (typeof r.field === 'string') {
    const c = comparison(r)
    return [c === undefined ? {} : { [r.field]: [c] }]
  }
  // A flat map of field → value (or list of values): equalities.
  const term: Conjunction = {}
  for (const [field, value] of Object.entries(r)) {
    if (isScalar(value)) term[field] = [{ op: 'eq', value }]
    else if (Array.isArray(value) && value.every(isScalar)) term[field] = [{ op: 'in', values: value }]
    else if (value !== undefined && value !== null) return undefined
  }
  return [term]
}

/** The dependencies of a query (see the module doc for the shapes understood). */
export function dependenciesOf (query: unknown): Dependencies {
  const t = terms(query, 0)
  return t === undefined || t.length === 0 ? DEPENDS_ON_EVERYTHING : { terms: t }
}

/** Reads dependencies back from stored metadata; anything malformed means "everything". */
export function parseDependencies (value: JsonValue | undefined): Dependencies {
  const r = record(value)
  if (r === undefined || !Array.isArray(r.terms)) return DEPENDS_ON_EVERYTHING
  for (const term of r.terms) {
    const t = record(term)
    if (t === undefined || !Object.values(t).every(cs => Array.isArray(cs) && cs.every(c => typeof record(c)?.op === 'string'))) return DEPENDS_ON_EVERYTHING
  }
  return { terms: r.terms as Conjunction[] }
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
const LETTER = /\p{L}/u

/** -1/0/1 when the order of `a` and `b` is certain, `undefined` when in doubt. */
function order (a: Scalar, b: Scalar): number | undefined {
  if (typeof a === 'number' || typeof b === 'number') {
    const x = typeof a === 'number' ? a : (NUMERIC.test(a.trim()) ? Number(a) : NaN)
    const y = typeof b === 'number' ? b : (NUMERIC.test(b.trim()) ? Number(b) : NaN)
    return Number.isNaN(x) || Number.isNaN(y) ? undefined : Math.sign(x - y)
  }
  const x = a.trim()
  const y = b.trim()
  if (LETTER.test(x) || LETTER.test(y)) return undefined
  return x < y ? -1 : x > y ? 1 : 0
}

/** Whether `a` may equal `b` under any matcher (case-folded, numeric-aware). */
function mayEqual (a: Scalar, b: Scalar): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.trim().toLowerCase() === b.trim().toLowerCase()
  const o = order(a, b)
  return o === undefined || o === 0
}

function satisfies (value: Scalar, c: Constraint): boolean {
  switch (c.op) {
    case 'eq': return mayEqual(value, c.value)
    case 'ne': return value !== c.value
    case 'in': return c.values.some(v => mayEqual(value, v))
    case 'prefix': return typeof value !== 'string' || value.trim().toLowerCase().startsWith(c.value.trim().toLowerCase())
    case 'range': {
      const lo = c.from === undefined ? -1 : order(c.from, value)
      const hi = c.to === undefined ? -1 : order(value, c.to)
      return (lo === undefined || lo <= 0) && (hi === undefined || hi <= 0)
    }
    default: {
      const o = order(value, c.value)
      if (o === undefined) return true
      return c.op === 'lt' ? o < 0 : c.op === 'le' ? o <= 0 : c.op === 'gt' ? o > 0 : o >= 0
    }
  }
}

function fieldMayMatch (value: FieldValue, constraints: readonly Constraint[]): boolean {
  if (value === undefined || value === null) return true
  if (typeof value === 'boolean') return true
  if (Array.isArray(value)) return value.length === 0 || constraints.every(c => value.some(v => satisfies(v, c)))
  return constraints.every(c => satisfies(value as Scalar, c))
}

/** Whether a series with these fields could be among the query's matches. */
export function couldMatch (deps: Dependencies, fields: SeriesFields): boolean {
  if ('any' in deps) return true
  return deps.terms.some(term => Object.entries(term).every(([field, cs]) => fieldMayMatch(fields[field], cs)))
}

/** Whether the change could alter a result with these dependencies (before or after the change). */
export function affects (deps: Dependencies, change: SeriesChange): boolean {
  return couldMatch(deps, change.fields) || (change.previous !== undefined && couldMatch(deps, change.previous))
}
