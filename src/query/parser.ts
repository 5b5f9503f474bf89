/**
 * Recursive-descent parser. Grammar (keywords in any case):
 *
 * ```
 * query     = [ "WHERE" ] or end
 * or        = and { "OR" and }
 * and       = unary { "AND" unary }
 * unary     = "NOT" unary | "(" or ")" | predicate
 * predicate = field ( op value
 *                   | [ "NOT" ] "BETWEEN" value "AND" value
 *                   | [ "NOT" ] "IN" "(" value { "," value } ")"
 *                   | [ "NOT" ] "LIKE" string
 *                   | ε )                          — a boolean field alone: field = true
 * op        = "=" | "!=" | "<>" | "<" | ">" | "<=" | ">="
 * value     = string | number | "TRUE" | "FALSE"
 * ```
 *
 * Precedence NOT > AND > OR, as in SQL. Limits are checked as the parser goes,
 * so an oversized query is refused before it costs memory or stack.
 */
import type { CompareOp, QueryNode } from './ast.js'
import { betweenPredicate, comparePredicate, inPredicate, likePredicate, type RawValue } from './checks.js'
import { resolveLimits, type QueryLimits, type ResolvedQueryLimits } from './constants.js'
import { QueryLimitError, QuerySyntaxError, UnknownFieldError } from './errors.js'
import { tokenize, type Token } from './lexer.js'
import { lookupField, suggestField, type FieldSpec } from './schema.js'

export interface ParseOptions {
  limits?: QueryLimits
}

const KEYWORDS = new Set(['WHERE', 'AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'LIKE', 'TRUE', 'FALSE'])

function utf8Length (text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.length) { n += 4; i++ } else n += 3
  }
  return n
}

/**
 * Parses a query into its AST (values canonical, structure as written; see
 * `normalize` for the canonical structure). Throws `QuerySyntaxError`,
 * `UnknownFieldError`, `QueryTypeError` or `QueryLimitError`.
 */
export function parse (query: string, options: ParseOptions = {}): QueryNode {
  const limits = resolveLimits(options.limits)
  if (typeof query !== 'string') throw new QuerySyntaxError('a query is a string', 0, '')
  // Each UTF-16 unit is at least one UTF-8 byte: the cheap test first.
  if (query.length > limits.maxBytes || utf8Length(query) > limits.maxBytes) throw new QueryLimitError('bytes', limits.maxBytes)
  return new Parser(query, tokenize(query), limits).query()
}

interface Built { node: QueryNode, depth: number }

class Parser {
  #i = 0
  #terms = 0

  constructor (private readonly text: string, private readonly tokens: Token[], private readonly limits: ResolvedQueryLimits) {}

  query (): QueryNode {
    if (this.#keyword('WHERE')) this.#i++
    if (this.#peek().kind === 'end') this.#fail('empty query: expected a condition')
    const { node } = this.#or(0)
    if (this.#peek().kind !== 'end') this.#fail(this.#peek().kind === ')' ? 'unbalanced )' : 'expected AND, OR or the end of the query')
    return node
  }

  #peek (): Token {
    return this.tokens[this.#i] ?? this.tokens[this.tokens.length - 1] as Token
  }

  #keyword (word: string): boolean {
    const t = this.#peek()
    return t.kind === 'word' && t.text.toUpperCase() === word
  }

  #fail (reason: string, at: Token = this.#peek()): never {
    throw new QuerySyntaxError(reason, at.position, this.text)
  }

  #join (type: 'and' | 'or', parts: Built[], at: Token): Built {
    if (parts.length === 1) return parts[0] as Built
    const depth = 1 + Math.max(...parts.map(p => p.depth))
    if (depth > this.limits.maxDepth) throw new QueryLimitError('depth', this.limits.maxDepth, at.position, this.text)
    return { node: { type, operands: parts.map(p => p.node) }, depth }
  }

  #or (nesting: number): Built {
    const first = this.#peek()
    const parts = [this.#and(nesting)]
    while (this.#keyword('OR')) {
      this.#i++
      parts.push(this.#and(nesting))
    }
    return this.#join('or', parts, first)
  }

  #and (nesting: number): Built {
    const first = this.#peek()
    const parts = [this.#unary(nesting)]
    while (this.#keyword('AND')) {
      this.#i++
      parts.push(this.#unary(nesting))
    }
    return this.#join('and', parts, first)
  }

  #unary (nesting: number): Built {
    const t = this.#peek()
    // Parentheses and NOTs are counted as they open: the stack stays bounded too.
    if ((t.kind === '(' || this.#keyword('NOT')) && nesting + 1 > this.limits.maxDepth) {
      throw new QueryLimitError('depth', this.limits.maxDepth, t.position, this.text)
    }
    if (this.#keyword('NOT')) {
      this.#i++
      return this.#not(this.#unary(nesting + 1), t)
    }
    if (t.kind === '(') {
      this.#i++
      const inner = this.#or(nesting + 1)
      if (this.#peek().kind !== ')') this.#fail(`expected ) to close the ( opened at position ${t.position}`)
      this.#i++
      return inner
    }
    return this.#predicate()
  }

  #not (inner: Built, at: Token): Built {
    if (inner.depth + 1 > this.limits.maxDepth) throw new QueryLimitError('depth', this.limits.maxDepth, at.position, this.text)
    return { node: { type: 'not', operand: inner.node }, depth: inner.depth + 1 }
  }

  #field (): { spec: FieldSpec, token: Token } {
    const t = this.#peek()
    if (t.kind !== 'word' || KEYWORDS.has(t.text.toUpperCase())) {
      this.#fail(t.kind === 'end' ? 'expected a condition at the end of the query' : 'expected a field name')
    }
    const spec = lookupField(t.text)
    if (spec === undefined) throw new UnknownFieldError(t.text, t.position, this.text, suggestField(t.text))
    this.#terms++
    if (this.#terms > this.limits.maxTerms) throw new QueryLimitError('terms', this.limits.maxTerms, t.position, this.text)
    this.#i++
    return { spec, token: t }
  }

  #value (): RawValue {
    const t = this.#peek()
    if (t.kind === 'string' || t.kind === 'number') {
      this.#i++
      return { kind: t.kind, text: t.text, position: t.position }
    }
    if (this.#keyword('TRUE') || this.#keyword('FALSE')) {
      this.#i++
      return { kind: 'boolean', text: t.text.toLowerCase(), position: t.position }
    }
    return this.#fail(t.kind === 'word' ? 'expected a value (strings take double quotes)' : 'expected a value')
  }

  #predicate (): Built {
    const { spec, token } = this.#field()
    const t = this.#peek()
    if (t.kind === 'op') {
      this.#i++
      const op: CompareOp = t.text === '<>' ? '!=' : t.text as CompareOp
      return { node: comparePredicate(spec, op, t.position, this.#value(), this.text), depth: 1 }
    }
    const not = this.#peek()
    const negated = this.#keyword('NOT')
    if (negated) this.#i++
    const k = this.#peek()
    const keyword = k.kind === 'word' ? k.text.toUpperCase() : ''
    let node: QueryNode
    if (keyword === 'BETWEEN') {
      this.#i++
      const low = this.#value()
      if (!this.#keyword('AND')) this.#fail('expected AND between the bounds of BETWEEN')
      this.#i++
      node = betweenPredicate(spec, k.position, low, this.#value(), this.text)
    } else if (keyword === 'IN') {
      this.#i++
      node = inPredicate(spec, this.#list(), this.text)
    } else if (keyword === 'LIKE') {
      this.#i++
      const v = this.#peek()
      if (v.kind !== 'string') this.#fail('LIKE takes a quoted prefix such as "CARD*"')
      this.#i++
      node = likePredicate(spec, k.position, { kind: 'string', text: v.text, position: v.position }, this.text)
    } else if (!negated && spec.type === 'boolean') {
      // `diagnosisKnown` alone reads as `diagnosisKnown = true`.
      return { node: comparePredicate(spec, '=', token.position, { kind: 'boolean', text: 'true', position: token.position }, this.text), depth: 1 }
    } else {
      return this.#fail(negated ? 'expected BETWEEN, IN or LIKE after NOT' : 'expected an operator (= != < > <= >= BETWEEN IN LIKE)')
    }
    return negated ? this.#not({ node, depth: 1 }, not) : { node, depth: 1 }
  }

  #list (): RawValue[] {
    if (this.#peek().kind !== '(') this.#fail('expected ( after IN')
    this.#i++
    const values = [this.#value()]
    while (this.#peek().kind === ',') {
      this.#i++
      if (values.length >= this.limits.maxInValues) throw new QueryLimitError('inValues', this.limits.maxInValues, this.#peek().position, this.text)
      values.push(this.#value())
    }
    if (this.#peek().kind !== ')') this.#fail('expected , or ) in the IN list')
    this.#i++
    return values
  }
}
