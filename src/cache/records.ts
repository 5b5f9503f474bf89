/**
 * The index record of one entry, as stored in LevelDB (JSON), and the checks
 * applied to keys, file names and metadata before anything is written.
 * Records read back at `open()` are validated too: a malformed one is dropped.
 */
import { MAX_DIRECTORY_FILES, MAX_FILE_NAME_BYTES, MAX_KEY_BYTES, MAX_META_BYTES } from './constants.js'
import { CacheInputError, CacheKeyError } from './errors.js'
import type { EntryInfo, JsonValue, StoreLimits, StorePutOptions } from './types.js'

export type EntryKind = 'inline' | 'file' | 'dir'

export interface EntryRecord {
  v: 1
  kind: EntryKind
  size: number
  /** File or directory name under the store's directory (`file` and `dir`). */
  name?: string
  /** Names and sizes of a directory entry's files. */
  files?: Array<[string, number]>
  created: number
  expires?: number
  meta?: JsonValue
}

const encoder = new TextEncoder()

export function utf8Length (text: string): number {
  return encoder.encode(text).byteLength
}

export function checkKey (key: unknown, field = 'key'): string {
  if (typeof key !== 'string' || key.length === 0) throw new CacheKeyError(field, 'must be a non-empty string')
  if (utf8Length(key) > MAX_KEY_BYTES) throw new CacheKeyError(field, `longer than ${MAX_KEY_BYTES} bytes`)
  return key
}

/** A file name inside a directory entry: no separators, no leading dot (so never `.` or `..`). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/

export function checkFileName (name: unknown): string {
  if (typeof name !== 'string' || !FILE_NAME.test(name) || name.length > MAX_FILE_NAME_BYTES) {
    throw new CacheKeyError('file name', `must match ${String(FILE_NAME)} and be at most ${MAX_FILE_NAME_BYTES} characters`)
  }
  return name
}

export function checkFileNames (names: readonly string[]): void {
  if (names.length > MAX_DIRECTORY_FILES) throw new CacheInputError('files', `more than ${MAX_DIRECTORY_FILES} files`)
  const seen = new Set<string>()
  for (const name of names) {
    checkFileName(name)
    if (seen.has(name)) throw new CacheKeyError('file name', 'duplicate name in one entry')
    seen.add(name)
  }
}

/** Round-trips `meta` through JSON (drops `undefined`, rejects cycles and BigInt) and bounds its size. */
export function checkMeta (meta: JsonValue | undefined): JsonValue | undefined {
  if (meta === undefined) return undefined
  let text: string | undefined
  try {
    text = JSON.stringify(meta)
  } catch {
    throw new CacheInputError('meta', 'not JSON-serialisable')
  }
  if (text === undefined) throw new CacheInputError('meta', 'not JSON-serialisable')
  if (utf8Length(text) > MAX_META_BYTES) throw new CacheInputError('meta', `larger than ${MAX_META_BYTES} bytes`)
  return JSON.parse(text) as JsonValue
}

function isSize (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** The record, if `value` is a well-formed one; `undefined` otherwise. */
export function parseRecord (value: unknown): EntryRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const r = value as Partial<Record<keyof EntryRecord, unknown>>
  if (r.v !== 1 || !isSize(r.size) || typeof r.created !== 'number') return undefined
  if (r.expires !== undefined && typeof r.expires !== 'number') return undefined
  if (r.kind === 'inline') return value as EntryRecord
  if (typeof r.name !== 'string' || !FILE_NAME.test(r.name)) return undefined
  if (r.kind === 'file') return value as EntryRecord
  if (r.kind !== 'dir' || !Array.isArray(r.files)) return undefined
  let total = 0
  for (const file of r.files as unknown[]) {
    if (!Array.isArray(file) || typeof file[0] !== 'string' || !FILE_NAME.test(file[0]) || !isSize(file[1])) return undefined
    total += file[1]
  }
  return total === r.size ? value as EntryRecord : undefined
}

/** Checks a store's limits: non-negative integers. */
export function checkLimits (limits: StoreLimits): StoreLimits {
  for (const [field, value] of Object.entries(limits)) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
      throw new CacheInputError(field, 'must be a non-negative integer')
    }
  }
  if (limits.maxBytes === undefined) throw new CacheInputError('maxBytes', 'is required')
  return limits
}

/** The checked form of `StorePutOptions`, computed before any byte is spooled. */
export interface PutPlan {
  meta: JsonValue | undefined
  ttlMs: number
  alsoDelete: string[]
}

export function checkPutOptions (key: string, options: StorePutOptions): PutPlan {
  const ttlMs = options.ttlMs ?? 0
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) throw new CacheInputError('ttlMs', 'must be a non-negative number')
  return {
    meta: checkMeta(options.meta),
    ttlMs,
    alsoDelete: (options.alsoDelete ?? []).map(k => checkKey(k, 'alsoDelete')).filter(k => k !== key)
  }
}

/** The index record of a spooled entry committed now (`name` is set by the commit for files). */
export function newRecord (pending: { kind: EntryKind, size: number, files?: Array<[string, number]> }, plan: PutPlan, now: number): EntryRecord {
  const record: EntryRecord = { v: 1, kind: pending.kind, size: pending.size, created: now }
  if (plan.ttlMs > 0) record.expires = now + plan.ttlMs
  if (plan.meta !== undefined) record.meta = plan.meta
  if (pending.files !== undefined) record.files = pending.files
  return record
}

/** The in-memory view of an indexed entry: its record plus LRU and lease state. */
export interface StoreEntry {
  readonly key: string
  readonly size: number
  readonly record: EntryRecord
  pins: number
  doomed: boolean
  seq: number
  /** No longer in the index: delete its file when the last lease is released. */
  removed: boolean
}

export function storeEntry (key: string, record: EntryRecord, seq: number): StoreEntry {
  return { key, size: record.size, record, seq, pins: 0, doomed: false, removed: false }
}

export function entryInfo (entry: StoreEntry): EntryInfo {
  const { record } = entry
  return { key: entry.key, kind: record.kind, size: record.size, meta: record.meta, created: record.created }
}

export function isExpired (entry: StoreEntry, now = Date.now()): boolean {
  return entry.record.expires !== undefined && entry.record.expires <= now
}
