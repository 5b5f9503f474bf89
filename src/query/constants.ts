/**
 * Limits of the query language, in one place. A query is untrusted input that
 * may come from another hospital: every dimension of it is bounded before it
 * costs anything (DESIGN.md "constant size limits on anything decoded").
 */

/** Longest query text, in UTF-8 bytes (also the bound on a received AST, printed canonically). */
export const MAX_QUERY_BYTES = 4096
/** Deepest nesting: of parentheses and NOTs in the text, and of AND/OR/NOT nodes in the AST. */
export const MAX_QUERY_DEPTH = 32
/** Most predicates (`field op value`, BETWEEN, IN, LIKE) in one query. */
export const MAX_QUERY_TERMS = 128
/** Most values in one `IN (…)` list. */
export const MAX_IN_VALUES = 128
/** Longest enum-ish (DICOM CS/UI) value: a UI is at most 64 characters (PS3.5 §6.2). */
export const MAX_ENUM_LENGTH = 64

/** Limits a caller may tighten (or, for tests, loosen); each defaults to the constant above. */
export interface QueryLimits {
  maxBytes?: number
  maxDepth?: number
  maxTerms?: number
  maxInValues?: number
}

export interface ResolvedQueryLimits {
  maxBytes: number
  maxDepth: number
  maxTerms: number
  maxInValues: number
}

export function resolveLimits (limits: QueryLimits = {}): ResolvedQueryLimits {
  return {
    maxBytes: limits.maxBytes ?? MAX_QUERY_BYTES,
    maxDepth: limits.maxDepth ?? MAX_QUERY_DEPTH,
    maxTerms: limits.maxTerms ?? MAX_QUERY_TERMS,
    maxInValues: limits.maxInValues ?? MAX_IN_VALUES
  }
}
