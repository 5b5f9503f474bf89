/**
 * Errors of the query language. Tests and callers assert on `err.name`; all
 * extend `QueryError`. `position` is a 0-based offset into the query text (in
 * UTF-16 code units, as JavaScript indexes strings), or `undefined` when the
 * query came as an AST and has no text.
 *
 * The `message` of a syntax, unknown-field or type error quotes the user's
 * own query around the caret: show it to that user, but do not log it or send
 * it to another site (it may hold a patient id). `reason`, `position`, `field`
 * and `limit` never hold query values and are safe to log.
 */

/** Excerpt of the line holding `position`, at most ~80 columns, with a caret under it. */
export function caret (query: string, position: number): string {
  const start = query.lastIndexOf('\n', position - 1) + 1
  const endAt = query.indexOf('\n', position)
  const line = query.slice(start, endAt === -1 ? query.length : endAt).replace(/[\t\r]/g, ' ')
  const column = position - start
  const from = Math.max(0, column - 40)
  const to = Math.min(line.length, from + 80)
  const head = from > 0 ? '…' : ''
  const tail = to < line.length ? '…' : ''
  return `  ${head}${line.slice(from, to)}${tail}\n  ${' '.repeat(head.length + column - from)}^`
}

function located (reason: string, position: number | undefined, query: string | undefined): string {
  if (position === undefined) return reason
  if (query === undefined) return `${reason} at position ${position}`
  return `${reason} at position ${position}\n${caret(query, position)}`
}

/** Base of every query error. */
export class QueryError extends Error {
  static override name = 'QueryError'
  /** What went wrong, without the query text. */
  readonly reason: string
  readonly position: number | undefined

  constructor (reason: string, position?: number, query?: string) {
    super(located(reason, position, query))
    this.name = 'QueryError'
    this.reason = reason
    this.position = position
  }
}

/** The text is not a query: unexpected character or token, unterminated string, bad escape. */
export class QuerySyntaxError extends QueryError {
  static override name = 'QuerySyntaxError'

  constructor (reason: string, position: number, query: string) {
    super(reason, position, query)
    this.name = 'QuerySyntaxError'
  }
}

/** A field that is not in the schema (`schema.ts`). */
export class UnknownFieldError extends QueryError {
  static override name = 'UnknownFieldError'
  /** The name as written (cut to 64 characters). */
  readonly field: string

  constructor (field: string, position?: number, query?: string, suggestion?: string) {
    const shown = field.slice(0, 64)
    super(`unknown field "${shown}"${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`, position, query)
    this.name = 'UnknownFieldError'
    this.field = shown
  }
}

/**
 * A predicate that does not fit its field's type: a date field compared with
 * a non-date, an ordering operator or BETWEEN on an enum or boolean, LIKE on
 * a number, an impossible date, an empty range.
 */
export class QueryTypeError extends QueryError {
  static override name = 'QueryTypeError'
  readonly field: string

  constructor (field: string, reason: string, position?: number, query?: string) {
    super(`${field}: ${reason}`, position, query)
    this.name = 'QueryTypeError'
    this.field = field
  }
}

/** The query is longer, deeper or has more terms than allowed (`constants.ts`). */
export class QueryLimitError extends QueryError {
  static override name = 'QueryLimitError'
  readonly limit: 'bytes' | 'depth' | 'terms' | 'inValues'
  readonly max: number

  constructor (limit: QueryLimitError['limit'], max: number, position?: number, query?: string) {
    super(`query exceeds its ${limit} limit of ${max}`, position, query)
    this.name = 'QueryLimitError'
    this.limit = limit
    this.max = max
  }
}

/** A received AST is malformed or not in the form `parse` produces. */
export class QueryAstError extends QueryError {
  static override name = 'QueryAstError'

  constructor (reason: string) {
    super(`invalid query AST: ${reason}`)
    this.name = 'QueryAstError'
  }
}

/** The query uses identifying fields and the requester has no identified-read right. */
export class IdentifyingFieldError extends QueryError {
  static override name = 'IdentifyingFieldError'
  /** The identifying fields used, sorted. */
  readonly fields: readonly string[]

  constructor (fields: readonly string[]) {
    super(`identifying field${fields.length === 1 ? '' : 's'} ${fields.join(', ')} need${fields.length === 1 ? 's' : ''} an identified-read right`)
    this.name = 'IdentifyingFieldError'
    this.fields = fields
  }
}
