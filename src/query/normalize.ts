/**
 * The canonical structure of a query, so that equivalent spellings give one
 * AST (one cache key, one printed form):
 *
 * - nested AND in AND (OR in OR) flattened;
 * - operands of AND/OR de-duplicated and sorted by their canonical text;
 *   a single remaining operand replaces its AND/OR;
 * - `NOT NOT x` → `x`;
 * - IN values de-duplicated and sorted; `IN (v)` → `= v`;
 * - `BETWEEN v AND v` → `= v`.
 *
 * NOT is *not* pushed into comparisons: `NOT a = 1` and `a != 1` differ on a
 * record without `a` (`matches` is false for any comparison on a missing
 * field, so the first is true and the second false). Pure; the input is not
 * modified.
 */
import type { Literal, QueryNode } from './ast.js'
import { toString } from './print.js'

function compareLiterals (a: Literal, b: Literal): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0
  return typeof a < typeof b ? -1 : 1
}

function junction (type: 'and' | 'or', operands: QueryNode[]): QueryNode {
  const flat: QueryNode[] = []
  for (const o of operands.map(normalize)) {
    if (o.type === type) flat.push(...o.operands)
    else flat.push(o)
  }
  const unique = new Map<string, QueryNode>()
  for (const o of flat) unique.set(toString(o), o)
  const sorted = [...unique.keys()].sort().map(k => unique.get(k) as QueryNode)
  return sorted.length === 1 ? sorted[0] as QueryNode : { type, operands: sorted }
}

/** The canonical form of `ast` (see the module doc). Idempotent. */
export function normalize (ast: QueryNode): QueryNode {
  switch (ast.type) {
    case 'and':
    case 'or':
      return junction(ast.type, ast.operands)
    case 'not': {
      const inner = normalize(ast.operand)
      return inner.type === 'not' ? inner.operand : { type: 'not', operand: inner }
    }
    case 'in': {
      const values = [...new Set(ast.values)].sort(compareLiterals)
      if (values.length === 1) return { type: 'compare', field: ast.field, op: '=', value: values[0] as Literal }
      return { type: 'in', field: ast.field, values }
    }
    case 'between':
      if (ast.low === ast.high) return { type: 'compare', field: ast.field, op: '=', value: ast.low }
      return { type: 'between', field: ast.field, low: ast.low, high: ast.high }
    case 'compare':
      return { type: 'compare', field: ast.field, op: ast.op, value: ast.value }
    case 'like':
      return { type: 'like', field: ast.field, prefix: ast.prefix }
  }
}
