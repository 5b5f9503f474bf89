/**
 * What a query depends on, and who may ask it.
 */
import type { QueryNode } from './ast.js'
import { IdentifyingFieldError } from './errors.js'
import { FIELDS } from './schema.js'

function collect (node: QueryNode, into: Set<string>): void {
  if (node.type === 'not') collect(node.operand, into)
  else if (node.type === 'and' || node.type === 'or') for (const o of node.operands) collect(o, into)
  else into.add(node.field)
}

/**
 * The canonical names of the fields `ast` reads, sorted. A change to a record
 * that leaves all of them alone cannot change whether it matches: the result
 * cache invalidates on these.
 */
export function fieldsOf (ast: QueryNode): string[] {
  const fields = new Set<string>()
  collect(ast, fields)
  return [...fields].sort()
}

/** The requester's rights, as the serving site read them from the SAC chain. */
export interface QueryRights {
  /** An identified-read right: may name identifying fields (patient id, dates, …). */
  identified: boolean
}

/**
 * Refuses a query that names an identifying field (schema.ts) when the
 * requester has no identified-read right: throws `IdentifyingFieldError`
 * listing them. The serving site calls it before evaluating, whatever the
 * requesting site checked — a field unknown to the schema counts as
 * identifying (fail closed).
 */
export function checkRights (ast: QueryNode, rights: QueryRights): void {
  if (rights.identified) return
  const refused = fieldsOf(ast).filter(f => FIELDS.get(f)?.identifying ?? true)
  if (refused.length > 0) throw new IdentifyingFieldError(refused)
}
