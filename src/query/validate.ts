/**
 * Checking an AST that arrived from elsewhere (another site, as CBOR or
 * JSON). The shape is checked first, with the limits, so the walk is bounded;
 * then the AST is printed and parsed again and must come back identical.
 * That applies exactly the parser's rules (known fields, types, canonical
 * values, limits) — one set of rules, not two — and refuses anything `parse`
 * would not have produced, such as an alias field name or an un-normalized
 * value. Errors from that second step (`UnknownFieldError`, `QueryTypeError`,
 * …) carry positions in the printed canonical text.
 */
import { COMPARE_OPS, type QueryNode } from './ast.js'
import { resolveLimits, type QueryLimits, type ResolvedQueryLimits } from './constants.js'
import { QueryAstError, QueryLimitError } from './errors.js'
import { parse } from './parser.js'
import { toString } from './print.js'

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

function isObject (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function keysAre (v: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(v)
  return own.length === keys.length && keys.every(k => Object.hasOwn(v, k))
}

function isLiteral (v: unknown, limits: ResolvedQueryLimits): boolean {
  if (typeof v === 'string') return v.length <= limits.maxBytes
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

class ShapeCheck {
  terms = 0
  constructor (private readonly limits: ResolvedQueryLimits) {}

  node (v: unknown, depth: number): void {
    if (depth > this.limits.maxDepth) throw new QueryLimitError('depth', this.limits.maxDepth)
    if (!isObject(v)) throw new QueryAstError('a node is an object')
    switch (v.type) {
      case 'and':
      case 'or': {
        if (!keysAre(v, ['type', 'operands']) || !Array.isArray(v.operands) || v.operands.length < 2) {
          throw new QueryAstError(`${v.type} takes at least two operands`)
        }
        if (v.operands.length > this.limits.maxTerms) throw new QueryLimitError('terms', this.limits.maxTerms)
        for (const o of v.operands) this.node(o, depth + 1)
        return
      }
      case 'not':
        if (!keysAre(v, ['type', 'operand'])) throw new QueryAstError('not takes one operand')
        this.node(v.operand, depth + 1)
        return
      case 'compare':
        this.#term(v, ['type', 'field', 'op', 'value'])
        if (!COMPARE_OPS.includes(v.op as never) || !isLiteral(v.value, this.limits)) throw new QueryAstError('bad comparison')
        return
      case 'between':
        this.#term(v, ['type', 'field', 'low', 'high'])
        if (!isLiteral(v.low, this.limits) || !isLiteral(v.high, this.limits)) throw new QueryAstError('bad BETWEEN bounds')
        return
      case 'in':
        this.#term(v, ['type', 'field', 'values'])
        if (!Array.isArray(v.values) || v.values.length === 0) throw new QueryAstError('IN takes at least one value')
        if (v.values.length > this.limits.maxInValues) throw new QueryLimitError('inValues', this.limits.maxInValues)
        if (!v.values.every(x => isLiteral(x, this.limits))) throw new QueryAstError('bad IN value')
        return
      case 'like':
        this.#term(v, ['type', 'field', 'prefix'])
        if (typeof v.prefix !== 'string' || v.prefix.length > this.limits.maxBytes || v.prefix.includes('*')) throw new QueryAstError('bad LIKE prefix')
        return
      default:
        throw new QueryAstError('unknown node type')
    }
  }

  #term (v: Record<string, unknown>, keys: string[]): void {
    if (!keysAre(v, keys)) throw new QueryAstError(`${String(v.type)} has members ${keys.join(', ')}`)
    if (typeof v.field !== 'string' || !FIELD_NAME.test(v.field)) throw new QueryAstError('a field is a name')
    if (++this.terms > this.limits.maxTerms) throw new QueryLimitError('terms', this.limits.maxTerms)
  }
}

function same (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]))
  if (!isObject(a) || !isObject(b)) return false
  const keys = Object.keys(a)
  return keysAre(b, keys) && keys.every(k => same(a[k], b[k]))
}

/**
 * `value` as a query AST, if it is exactly one `parse` could have returned;
 * else `QueryAstError`, `QueryLimitError`, `UnknownFieldError` or
 * `QueryTypeError`. Returns a fresh copy (nothing shared with `value`).
 */
export function validateQuery (value: unknown, options: { limits?: QueryLimits } = {}): QueryNode {
  const limits = resolveLimits(options.limits)
  new ShapeCheck(limits).node(value, 1)
  const parsed = parse(toString(value as QueryNode), { limits })
  if (!same(parsed, value)) throw new QueryAstError('not in canonical form (field names, values or structure differ from what parse gives)')
  return parsed
}
