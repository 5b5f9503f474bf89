/**
 * The query AST: plain JSON (objects, arrays, strings, finite numbers,
 * booleans; no `undefined`, no `null`), so it travels between sites as
 * canonical CBOR or JSON unchanged. Field names are canonical (`schema.ts`);
 * values are already in their canonical form: dates `YYYYMMDD`, enum and
 * person-name strings upper-cased, strings NFC without surrounding spaces,
 * `-0` as `0`. `and`/`or` have at least two operands.
 *
 * A received AST is checked with `validateQuery` before anything else.
 */

export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>='
export const COMPARE_OPS: readonly CompareOp[] = ['=', '!=', '<', '>', '<=', '>=']

/** A value: a string (also dates, as `YYYYMMDD`), a finite number or a boolean. */
export type Literal = string | number | boolean

/** `field op value`. */
export interface CompareNode { type: 'compare', field: string, op: CompareOp, value: Literal }
/** `field BETWEEN low AND high`, inclusive; also `date = "low-high"`. `low <= high`. */
export interface BetweenNode { type: 'between', field: string, low: Literal, high: Literal }
/** `field IN (v1, v2, …)`, at least one value. */
export interface InNode { type: 'in', field: string, values: Literal[] }
/** `field LIKE "prefix*"`: the value starts with `prefix` (which holds no `*`). */
export interface LikeNode { type: 'like', field: string, prefix: string }
export interface NotNode { type: 'not', operand: QueryNode }
export interface AndNode { type: 'and', operands: QueryNode[] }
export interface OrNode { type: 'or', operands: QueryNode[] }

/** A predicate on one field. */
export type PredicateNode = CompareNode | BetweenNode | InNode | LikeNode
export type QueryNode = PredicateNode | NotNode | AndNode | OrNode

export function isPredicate (node: QueryNode): node is PredicateNode {
  return node.type === 'compare' || node.type === 'between' || node.type === 'in' || node.type === 'like'
}

/** Depth of a node: a predicate is 1, each AND/OR/NOT adds one. */
export function depthOf (node: QueryNode): number {
  if (node.type === 'not') return 1 + depthOf(node.operand)
  if (node.type === 'and' || node.type === 'or') return 1 + Math.max(...node.operands.map(depthOf))
  return 1
}

/** Predicates in a node (an IN list counts once). */
export function termsOf (node: QueryNode): number {
  if (node.type === 'not') return termsOf(node.operand)
  if (node.type === 'and' || node.type === 'or') return node.operands.reduce((n, o) => n + termsOf(o), 0)
  return 1
}
