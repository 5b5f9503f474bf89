/**
 * Strict, hand-written validation of decoded payloads: every map must have
 * exactly the allowed keys, every value the expected type and bounds. Checks
 * throw MalformedRecordError naming the field path (never its value).
 *
 * Hand-written rather than zod because it runs on every certificate a node
 * verifies: it is the largest cost after the signature itself.
 */
import { MalformedRecordError } from './errors.js'

export function fail (path: string, problem: string): never {
  throw new MalformedRecordError(`${path}: ${problem}`)
}

function isPlainMap (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * A map with only `required` and `optional` keys, all of `required` present.
 * Absent optional keys must be absent, not `undefined`.
 */
export function strictMap (value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (!isPlainMap(value)) fail(path, 'expected a map')
  const keys = Object.keys(value)
  let found = 0
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (required.includes(key)) found++
    else if (!optional.includes(key)) fail(path, `unknown field ${JSON.stringify(key.slice(0, 32))}`)
    if (value[key] === undefined) fail(`${path}.${key}`, 'undefined')
  }
  if (found !== required.length) fail(path, `missing field ${JSON.stringify(required.find(k => !Object.hasOwn(value, k)))}`)
  return value
}

export function bytes (value: unknown, path: string, length: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) fail(path, `expected ${length} bytes`)
  return value
}

export function int (value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) fail(path, `expected an integer in ${min}…${max}`)
  return value
}

export function text (value: unknown, path: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(path, `expected ${what}`)
  return value
}

export function list<T> (value: unknown, path: string, min: number, max: number, item: (v: unknown, path: string) => T): T[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) fail(path, `expected ${min}…${max} items`)
  const out: T[] = new Array<T>(value.length)
  for (let i = 0; i < value.length; i++) out[i] = item(value[i], `${path}[${i}]`)
  return out
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Sets are written sorted and without duplicates, so one meaning has one encoding. */
export function sortedUnique<T> (values: readonly T[], path: string, compare: (a: T, b: T) => number): readonly T[] {
  for (let i = 1; i < values.length; i++) {
    if (compare(values[i - 1] as T, values[i] as T) >= 0) fail(path, 'values must be sorted and unique')
  }
  return values
}

export function hex (value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex')
}

/**
 * Freezes maps and arrays all the way down (byte arrays cannot be frozen).
 * Verified records are shared through the cache: no caller may change one.
 */
export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
