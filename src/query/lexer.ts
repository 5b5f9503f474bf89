/**
 * Tokens of the query text. Strings are double-quoted with JSON escapes
 * (RFC 8259 §7: `\" \\ \/ \b \f \n \r \t \uXXXX`); raw control characters
 * must be escaped. Numbers are JSON-like with an optional leading `-`
 * (`12`, `-1.5`, `3e-2`). Identifiers are fields and keywords, the parser
 * tells them apart. Whitespace: space, tab, CR, LF.
 */
import { QuerySyntaxError } from './errors.js'

export type TokenKind = 'word' | 'string' | 'number' | 'op' | '(' | ')' | ',' | 'end'

export interface Token {
  kind: TokenKind
  /** The lexeme; for a string, its decoded value. */
  text: string
  /** Offset of the first character. */
  position: number
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y
const OPS = ['!=', '<>', '<=', '>=', '=', '<', '>']
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

export function tokenize (query: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < query.length) {
    const c = query[i] ?? ''
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, position: i })
      i++
      continue
    }
    if (c === '"') {
      const { value, end } = readString(query, i)
      tokens.push({ kind: 'string', text: value, position: i })
      i = end
      continue
    }
    const op = OPS.find(o => query.startsWith(o, i))
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op, position: i })
      i += op.length
      continue
    }
    NUMBER.lastIndex = i
    const number = NUMBER.exec(query)
    if (number !== null) {
      const end = i + number[0].length
      if (/[A-Za-z0-9_.]/.test(query[end] ?? '')) throw new QuerySyntaxError('malformed number', i, query)
      tokens.push({ kind: 'number', text: number[0], position: i })
      i = end
      continue
    }
    WORD.lastIndex = i
    const word = WORD.exec(query)
    if (word !== null) {
      tokens.push({ kind: 'word', text: word[0], position: i })
      i += word[0].length
      continue
    }
    throw new QuerySyntaxError(c === '\'' ? 'strings take double quotes' : 'unexpected character', i, query)
  }
  tokens.push({ kind: 'end', text: '', position: query.length })
  return tokens
}

function readString (query: string, start: number): { value: string, end: number } {
  let value = ''
  let i = start + 1
  while (i < query.length) {
    const c = query[i] ?? ''
    if (c === '"') return { value, end: i + 1 }
    if (c < ' ') throw new QuerySyntaxError('control character in a string (escape it)', i, query)
    if (c !== '\\') {
      value += c
      i++
      continue
    }
    const e = query[i + 1] ?? ''
    const simple = ESCAPES[e]
    if (simple !== undefined) {
      value += simple
      i += 2
    } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(query.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(query.slice(i + 2, i + 6), 16))
      i += 6
    } else {
      throw new QuerySyntaxError('invalid escape in a string', i, query)
    }
  }
  throw new QuerySyntaxError('unterminated string', start, query)
}
