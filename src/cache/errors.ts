/**
 * Errors of the node's caches. Tests and callers assert on `err.name`.
 * Messages name sizes, LFNs and limits only: never query values or DICOM UIDs,
 * which may be identifying (PS3.15 Annex E lists UIDs among the attributes to replace).
 */

/** A key, LFN, version, SOP Instance UID, scope or file name is malformed; nothing was changed. */
export class CacheKeyError extends Error {
  static override name = 'CacheKeyError'
  readonly field: string

  constructor (field: string, problem: string) {
    super(`${field}: ${problem}`)
    this.name = 'CacheKeyError'
    this.field = field
  }
}

/** Another argument is out of range (metadata too big, bad source, bad option); nothing was changed. */
export class CacheInputError extends Error {
  static override name = 'CacheInputError'
  readonly field: string

  constructor (field: string, problem: string) {
    super(`${field}: ${problem}`)
    this.name = 'CacheInputError'
    this.field = field
  }
}

/** One entry is larger than the layer accepts (its whole budget, or its per-entry limit). */
export class CacheEntryTooLargeError extends Error {
  static override name = 'CacheEntryTooLargeError'
  readonly limit: number

  constructor (store: string, limit: number) {
    super(`${store}: entry exceeds the ${limit}-byte limit`)
    this.name = 'CacheEntryTooLargeError'
    this.limit = limit
  }
}

/** Room cannot be made: what would have to be evicted is in use (leased). */
export class CacheFullError extends Error {
  static override name = 'CacheFullError'
  readonly needed: number

  constructor (store: string, needed: number) {
    super(`${store}: no room for ${needed} bytes, the rest is in use`)
    this.name = 'CacheFullError'
    this.needed = needed
  }
}

/** The store is not open (before `open()`, after `close()`). */
export class CacheClosedError extends Error {
  static override name = 'CacheClosedError'

  constructor (store: string) {
    super(`${store}: the cache is not open`)
    this.name = 'CacheClosedError'
  }
}

/** The scratch directory cannot be used: not a directory, or not a cache's (no marker, not empty). */
export class CacheDirectoryError extends Error {
  static override name = 'CacheDirectoryError'
  readonly directory: string

  constructor (directory: string, problem: string) {
    super(`${directory}: ${problem}`)
    this.name = 'CacheDirectoryError'
    this.directory = directory
  }
}

/** An image version older than the one cached was offered: a replica may never undo a newer master version. */
export class CacheStaleVersionError extends Error {
  static override name = 'CacheStaleVersionError'
  readonly lfn: string
  readonly version: number
  readonly cached: number

  constructor (lfn: string, version: number, cached: number) {
    super(`${lfn}: version ${version} is older than the cached version ${cached}`)
    this.name = 'CacheStaleVersionError'
    this.lfn = lfn
    this.version = version
    this.cached = cached
  }
}

/** An entry holds another kind of value than the call expects (a directory read as one file…). */
export class CacheEntryKindError extends Error {
  static override name = 'CacheEntryKindError'

  constructor (store: string, expected: string, actual: string) {
    super(`${store}: expected a ${expected} entry, found a ${actual} entry`)
    this.name = 'CacheEntryKindError'
  }
}
