/**
 * Layer 2, assembled encrypted images (paper §4.4, "image caching"): the
 * encrypted chunk files of one LFN version and its signed manifest, stored as
 * one directory entry under `lfn@version`. Only ciphertext and the manifest
 * are kept here, never a plaintext volume.
 *
 * A new version of an LFN drops the cached older ones in the same atomic
 * index batch; an older version offered after a newer one is refused (a
 * replica may never undo the master's newer version).
 */
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { MANIFEST_FILE_NAME, MAX_LFN_BYTES, MAX_MANIFEST_BYTES } from './constants.js'
import { CacheInputError, CacheKeyError, CacheStaleVersionError } from './errors.js'
import { KeyedMutex } from './mutex.js'
import { utf8Length } from './records.js'
import { ByteStore } from './store.js'
import type { ByteSource, CacheLevel, StoreStats } from './types.js'

export interface ImageCacheInit {
  directory: string
  level: CacheLevel
  logger: ComponentLogger
  limits: { maxBytes: number, maxEntryBytes?: number }
}

export interface ImageChunk {
  /** File name of the chunk (e.g. its index or the hex of its ciphertext hash); not `manifest`. */
  name: string
  source: ByteSource
}

export interface ImageInput {
  /** The signed manifest, as encoded. */
  manifest: Uint8Array
  chunks: readonly ImageChunk[]
}

/** A cached image, pinned until `release()`: its chunk files stay on disk meanwhile. */
export interface ImageLease extends Omit<ImageChunksLease, 'path'> {
  readonly manifest: Uint8Array
}

/** A cached image's chunk files, pinned until `release()` (see `ImageCache.chunks`). */
export interface ImageChunksLease {
  readonly lfn: string
  readonly version: number
  /** Total bytes: chunks plus manifest. */
  readonly size: number
  /** The entry's folder. */
  readonly path: string
  /** Chunk names and sizes, in the order they were given. */
  readonly chunks: ReadonlyArray<readonly [name: string, size: number]>
  /** Path of a chunk file; throws `CacheKeyError` for a name not in this image. */
  chunkPath: (name: string) => string
  release: () => void
}

/** An LFN is opaque (DESIGN.md: no patient data in it): printable ASCII, no `@` (the version separator). */
const LFN = /^[\x21-\x3f\x41-\x7e]+$/

export function checkLfn (lfn: unknown): string {
  if (typeof lfn !== 'string' || !LFN.test(lfn) || utf8Length(lfn) > MAX_LFN_BYTES) {
    throw new CacheKeyError('lfn', `must be 1 to ${MAX_LFN_BYTES} printable ASCII characters without '@'`)
  }
  return lfn
}

export function checkVersion (version: unknown): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new CacheKeyError('version', 'must be a non-negative integer')
  }
  return version
}

/** The store key of an image version. */
export function imageKey (lfn: string, version: number): string {
  return `${checkLfn(lfn)}@${checkVersion(version)}`
}

function parseImageKey (key: string): { lfn: string, version: number } | undefined {
  const at = key.lastIndexOf('@')
  const version = Number(key.slice(at + 1))
  return at > 0 && Number.isSafeInteger(version) ? { lfn: key.slice(0, at), version } : undefined
}

export class ImageCache {
  readonly store: ByteStore
  readonly #log: Logger
  readonly #locks = new KeyedMutex()
  /** LFN → versions committed (some may since have been evicted: check the store). */
  readonly #versions = new Map<string, Set<number>>()

  constructor (init: ImageCacheInit) {
    this.#log = init.logger.forComponent('dm2:cache:images')
    this.store = new ByteStore({ name: 'images', directory: init.directory, level: init.level, logger: init.logger, limits: { ...init.limits, inlineThreshold: 0 } })
  }

  async open (): Promise<void> {
    await this.store.open()
    this.#versions.clear()
    const stale: string[] = []
    for (const { key } of this.store.entries()) {
      const parsed = parseImageKey(key)
      if (parsed === undefined) stale.push(key)
      else this.#add(parsed.lfn, parsed.version)
    }
    // Only the newest version of each LFN may stay.
    for (const [lfn, versions] of this.#versions) {
      const newest = Math.max(...versions)
      for (const v of versions) if (v !== newest) stale.push(`${lfn}@${v}`)
      this.#versions.set(lfn, new Set([newest]))
    }
    if (stale.length > 0) await this.store.delete(stale)
  }

  async close (): Promise<void> {
    await this.store.close()
  }

  /** Caches version `version` of `lfn`, dropping any older cached version in the same commit. */
  async put (lfn: string, version: number, image: ImageInput, options: { signal?: AbortSignal } = {}): Promise<void> {
    const key = imageKey(lfn, version)
    if (!(image.manifest instanceof Uint8Array) || image.manifest.byteLength > MAX_MANIFEST_BYTES) {
      throw new CacheInputError('manifest', `must be at most ${MAX_MANIFEST_BYTES} bytes`)
    }
    if (image.chunks.some(c => c.name === MANIFEST_FILE_NAME)) throw new CacheKeyError('file name', `'${MANIFEST_FILE_NAME}' is reserved for the manifest`)
    await this.#locks.run(lfn, async () => {
      const present = this.#present(lfn)
      const newest = Math.max(-1, ...present)
      if (newest > version) throw new CacheStaleVersionError(lfn, version, newest)
      const older = present.filter(v => v !== version).map(v => `${lfn}@${v}`)
      await this.store.putDirectory(key, [...image.chunks, { name: MANIFEST_FILE_NAME, source: image.manifest }], {
        meta: { lfn, version },
        alsoDelete: older,
        signal: options.signal
      })
      this.#versions.set(lfn, new Set([version]))
      this.#log.trace('cached %s@%d (%d chunks), dropped %d older versions', lfn, version, image.chunks.length, older.length)
    })
  }

  /** The cached image of `lfn` (at `version`, or the newest cached), or `undefined`. */
  async get (lfn: string, version?: number): Promise<ImageLease | undefined> {
    const lease = await this.chunks(lfn, version)
    if (lease === undefined) return undefined
    try {
      const manifest = new Uint8Array(await readFile(join(lease.path, MANIFEST_FILE_NAME)))
      const { path: _path, ...rest } = lease
      return { ...rest, manifest }
    } catch (err) {
      lease.release()
      throw err
    }
  }

  /**
   * The chunk files of a cached image without its manifest (serving chunks):
   * pinned until `release()`, like `get`, at the cost of one index lookup.
   */
  async chunks (lfn: string, version?: number): Promise<ImageChunksLease | undefined> {
    checkLfn(lfn)
    const v = version ?? this.latestVersion(lfn)
    if (v === undefined) {
      this.store.countMiss()
      return undefined
    }
    const lease = await this.store.get(imageKey(lfn, v))
    if (lease === undefined) return undefined
    if (lease.kind !== 'dir') {
      lease.release()
      return undefined
    }
    const chunks = lease.files.filter(([name]) => name !== MANIFEST_FILE_NAME)
    const names = new Set(chunks.map(([name]) => name))
    return {
      lfn,
      version: v,
      size: lease.size,
      path: lease.path,
      chunks,
      chunkPath: (name: string) => {
        if (!names.has(name)) throw new CacheKeyError('chunk', 'not part of this image')
        return join(lease.path, name)
      },
      release: lease.release
    }
  }

  /** A stream of one chunk; opened before returning, so eviction cannot cut it short. */
  async createChunkStream (lfn: string, version: number, chunk: string): Promise<Readable | undefined> {
    return await this.store.createReadStream(imageKey(lfn, version), chunk)
  }

  /** The newest cached version of `lfn`. */
  latestVersion (lfn: string): number | undefined {
    const present = this.#present(lfn)
    return present.length === 0 ? undefined : Math.max(...present)
  }

  has (lfn: string, version: number): boolean {
    return this.store.has(imageKey(lfn, version))
  }

  /** Drops cached versions of `lfn` (those below `below`, or all). Returns how many. */
  async invalidate (lfn: string, below?: number): Promise<number> {
    checkLfn(lfn)
    return await this.#locks.run(lfn, async () => {
      const drop = this.#present(lfn).filter(v => below === undefined || v < below)
      const count = await this.store.delete(drop.map(v => `${lfn}@${v}`))
      const rest = this.#present(lfn)
      if (rest.length === 0) this.#versions.delete(lfn)
      else this.#versions.set(lfn, new Set(rest))
      return count
    })
  }

  stats (): StoreStats {
    return this.store.stats()
  }

  #add (lfn: string, version: number): void {
    const set = this.#versions.get(lfn) ?? new Set<number>()
    set.add(version)
    this.#versions.set(lfn, set)
  }

  /** Versions of `lfn` still in the store (evictions prune the map lazily). */
  #present (lfn: string): number[] {
    const set = this.#versions.get(lfn)
    if (set === undefined) return []
    const present = [...set].filter(v => this.store.has(`${lfn}@${v}`))
    if (present.length === 0) this.#versions.delete(lfn)
    return present
  }
}
