/**
 * The canonical text of an AST: keywords upper-case, canonical field names,
 * one space around operators, strings as JSON strings (RFC 8259 §7 escapes,
 * which the lexer reads back), numbers in JavaScript's shortest round-trip
 * form, parentheses only where precedence (NOT > AND > OR) needs them. For
 * any AST `parse` can return, `parse(toString(ast))` deep-equals `ast`.
 */
import type { Literal, QueryNode } from './ast.js'

function literal (value: Literal): string {
  if (typeof value === 'string') return JSON.stringify(value)
  return String(value)
}

function predicate (node: QueryNode): string {
  switch (node.type) {
    case 'compare': return `${node.field} ${node.op} ${literal(node.value)}`
    case 'between': return `${node.field} BETWEEN ${literal(node.low)} AND ${literal(node.high)}`
    case 'in': return `${node.field} IN (${node.values.map(literal).join(', ')})`
    case 'like': return `${node.field} LIKE ${JSON.stringify(node.prefix + '*')}`
    default: return `(${print(node)})`
  }
}

function print (node: QueryNode): string {
  switch (node.type) {
    case 'or':
      // An AND inside an OR binds tighter: no parentheses. A nested OR keeps them, so the shape survives.
      return node.operands.map(o => o.type === 'or' ? `(${print(o)})` : print(o)).join(' OR ')
    case 'and':
      return node.operands.map(o => o.type === 'or' || o.type === 'and' ? `(${print(o)})` : print(o)).join(' AND ')
    case 'not':
      return `NOT ${node.operand.type === 'not' ? print(node.operand) : predicate(node.operand)}`
    default:
      return predicate(node)
  }
}

/** The canonical query text of `ast` (no leading WHERE). */
export function toString (ast: QueryNode): string {
  return print(ast)
}
