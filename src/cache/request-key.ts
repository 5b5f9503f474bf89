/**
 * The key of a request result: a canonical string from the normalized query
 * and the requester's scope, so equivalent queries hit the same entry and two
 * requesters with different rights never share one (the result was filtered
 * by the requester's SAC).
 *
 * Normalization: object keys sorted, `undefined` members dropped, strings in
 * Unicode NFC with surrounding spaces removed (PS3.5 §6.2: leading and
 * trailing spaces of most string VRs are padding, not value), `-0` as `0`,
 * dates as ISO 8601. Array order is kept (it may matter) except under the
 * keys `and`, `or` and `in` (any case), which are sets: sorted, de-duplicated.
 * Pure: no I/O.
 */
import { MAX_QUERY_DEPTH, MAX_QUERY_KEY_BYTES, MAX_SCOPE_LENGTH } from './constants.js'
import { CacheKeyError } from './errors.js'
import { utf8Length } from './records.js'
import type { JsonValue } from './types.js'

const SET_KEYS = new Set(['and', 'or', 'in'])
const KEY_VERSION = 'dm2-request/1'

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** The normalized form of a query (see the module doc); throws `CacheKeyError` on non-JSON input. */
export function normalizeQuery (query: unknown): JsonValue {
  return normalize(query, 0, undefined)
}

function normalize (value: unknown, depth: number, parentKey: string | undefined): JsonValue {
  if (depth > MAX_QUERY_DEPTH) throw new CacheKeyError('query', `nested deeper than ${MAX_QUERY_DEPTH}`)
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'string') return value.normalize('NFC').trim()
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CacheKeyError('query', 'numbers must be finite')
    return value === 0 ? 0 : value
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new CacheKeyError('query', 'invalid date')
    return value.toISOString()
  }
  if (Array.isArray(value)) {
    const items = value.map(item => normalize(item === undefined ? null : item, depth + 1, undefined))
    if (parentKey === undefined || !SET_KEYS.has(parentKey.toLowerCase())) return items
    const unique = new Map(items.map(item => [JSON.stringify(item), item]))
    return [...unique.keys()].sort().map(k => unique.get(k) as JsonValue)
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    // No prototype: a member named `__proto__` stays a member (and in the key).
    const out = Object.create(null) as Record<string, JsonValue>
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key]
      if (member !== undefined) out[key] = normalize(member, depth + 1, key)
    }
    return out
  }
  throw new CacheKeyError('query', `a ${typeof value} is not a JSON value`)
}

/** Checks a requester scope id (the SAC scope the result was filtered under). */
export function checkScope (scope: unknown): string {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) {
    throw new CacheKeyError('scope', `must be a non-empty string of at most ${MAX_SCOPE_LENGTH} characters`)
  }
  return scope
}

/**
 * The canonical key of `query` asked under `scope`. Equivalent queries give
 * the same string; a different scope always gives a different one.
 */
export function requestKey (query: unknown, scope: string): string {
  const key = JSON.stringify([KEY_VERSION, checkScope(scope), normalizeQuery(query)])
  if (utf8Length(key) > MAX_QUERY_KEY_BYTES) throw new CacheKeyError('query', `canonical form longer than ${MAX_QUERY_KEY_BYTES} bytes`)
  return key
}
