/**
 * The undo of every effect of a preparation, registered with the transaction
 * engine by kind so that `engine.recover()` can replay them after a crash in
 * a process that never saw the original closures. Every handler is idempotent
 * and refuses malformed journal data (it comes back from disk).
 */
import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { isAbsolute, relative } from 'node:path'
import type { Compensation, TxEngine } from '../tx/index.js'
import type { ImageCache } from '../cache/images.js'
import type { ContentIndex } from './chunk-store.js'
import { COMPENSATION } from './constants.js'
import type { DataKeys } from './keystore.js'
import type { SliceProvider } from './types.js'

export interface WorkDirData { path: string }
export interface ImageData { lfn: string, version: number, manifestSha256: string }
/**
 * The data key of `lfn@version`, named by its SHA-256 (`keyId`, journaled
 * before the key exists: see build.ts) or, in journals written before that,
 * by the content id it sealed.
 */
export type KeyData = { lfn: string, version: number } & ({ keyId: string } | { contentId: string })
export interface IndexData { contentId: string }
export interface SlicesData { lfn: string, keys: string[] }

/** Most instance keys one compensation record may name (a series is at most this many objects). */
const MAX_EVICT_KEYS = 100_000

export interface PrepareCompensations {
  workDir: Compensation<WorkDirData>
  image: Compensation<ImageData>
  key: Compensation<KeyData>
  index: Compensation<IndexData>
  slices: Compensation<SlicesData>
}

const HEX64 = /^[0-9a-f]{64}$/

function record (data: unknown): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new TypeError('compensation data is not an object')
  return data as Record<string, unknown>
}

function lfnVersion (d: Record<string, unknown>): { lfn: string, version: number } {
  if (typeof d.lfn !== 'string' || d.lfn.length === 0 || d.lfn.length > 128) throw new TypeError('bad lfn')
  if (typeof d.version !== 'number' || !Number.isSafeInteger(d.version) || d.version < 0) throw new TypeError('bad version')
  return { lfn: d.lfn, version: d.version }
}

function hex64 (value: unknown, what: string): string {
  if (typeof value !== 'string' || !HEX64.test(value)) throw new TypeError(`bad ${what}`)
  return value
}

export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export interface CompensationTargets {
  scratch: string
  images: ImageCache
  keys: DataKeys
  index: ContentIndex
  slices: SliceProvider
}

export function registerCompensations (engine: TxEngine, t: CompensationTargets): PrepareCompensations {
  return {
    workDir: engine.compensation<WorkDirData>(COMPENSATION.workDir, async ({ path }) => {
      await rm(path, { recursive: true, force: true })
    }, {
      // Only ever a folder inside the scratch space: a tampered journal cannot make us delete elsewhere.
      parse: (data) => {
        const path = record(data).path
        const rel = typeof path === 'string' ? relative(t.scratch, path) : ''
        if (typeof path !== 'string' || rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new TypeError('work dir outside scratch')
        return { path }
      }
    }),
    image: engine.compensation<ImageData>(COMPENSATION.image, async ({ lfn, version, manifestSha256 }) => {
      const lease = await t.images.get(lfn, version)
      if (lease === undefined) return
      let ours: boolean
      try {
        ours = sha256Hex(lease.manifest) === manifestSha256
      } finally {
        lease.release()
      }
      // Another preparation's entry (same version, other manifest) is left alone.
      if (ours) await t.images.invalidate(lfn, version + 1)
    }, {
      parse: (data) => {
        const d = record(data)
        return { ...lfnVersion(d), manifestSha256: hex64(d.manifestSha256, 'manifest hash') }
      }
    }),
    key: engine.compensation<KeyData>(COMPENSATION.key, async (data) => {
      await t.keys.delete(data.lfn, data.version, 'keyId' in data ? { keyId: data.keyId } : { contentId: data.contentId })
    }, {
      parse: (data) => {
        const d = record(data)
        return d.keyId === undefined
          ? { ...lfnVersion(d), contentId: hex64(d.contentId, 'content id') }
          : { ...lfnVersion(d), keyId: hex64(d.keyId, 'key id') }
      }
    }),
    index: engine.compensation<IndexData>(COMPENSATION.index, async ({ contentId }) => {
      await t.index.delete(contentId)
    }, {
      parse: (data) => ({ contentId: hex64(record(data).contentId, 'content id') })
    }),
    slices: engine.compensation<SlicesData>(COMPENSATION.slices, async ({ lfn, keys }) => {
      await t.slices.evict?.(lfn, keys)
    }, {
      parse: (data) => {
        const d = record(data)
        if (typeof d.lfn !== 'string' || d.lfn.length === 0 || d.lfn.length > 128) throw new TypeError('bad lfn')
        if (!Array.isArray(d.keys) || d.keys.length > MAX_EVICT_KEYS || !d.keys.every(k => typeof k === 'string' && k.length > 0 && k.length <= 256)) throw new TypeError('bad instance keys')
        return { lfn: d.lfn, keys: d.keys as string[] }
      }
    })
  }
}
