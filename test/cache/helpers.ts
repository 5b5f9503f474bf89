/** Shared fixtures of the cache tests: a real LevelDB and scratch directory in a temp dir. */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { prefixLogger } from '@libp2p/logger'
import { Level } from 'level'
import { ByteStore } from '../../src/cache/store.js'
import { STORE_MARKER_FILE } from '../../src/cache/constants.js'
import type { CacheLevel, StoreLimits } from '../../src/cache/types.js'
import { tempDir } from '../helpers/tmp.js'

export const logger = prefixLogger('cache-test')

export interface Fixture {
  root: string
  db: Level<string, Uint8Array>
  /** A fresh level handle on the same database directory (after `reopenDb`). */
  level: () => CacheLevel
  /** Closes and reopens the database: what a process restart does. */
  reopenDb: () => Promise<void>
  remove: () => Promise<void>
}

export async function fixture (): Promise<Fixture> {
  const dir = await tempDir('dm2-cache-')
  const dbPath = join(dir.path, 'db')
  const f: Fixture = {
    root: dir.path,
    db: new Level<string, Uint8Array>(dbPath, { valueEncoding: 'view' }),
    level: () => f.db.sublevel('cache'),
    reopenDb: async () => {
      await f.db.close()
      f.db = new Level<string, Uint8Array>(dbPath, { valueEncoding: 'view' })
      await f.db.open()
    },
    remove: async () => {
      await f.db.close()
      await dir.remove()
    }
  }
  await f.db.open()
  return f
}

export function makeStore (f: Fixture, limits: StoreLimits, name = 'store', level = f.level()): ByteStore {
  return new ByteStore({ name, directory: join(f.root, name), level, logger, limits })
}

/** Bytes of the files under `dir` (recursively), the marker file excepted. */
export async function diskBytes (dir: string): Promise<number> {
  let total = 0
  for (const item of await readdir(dir, { withFileTypes: true })) {
    if (item.name === STORE_MARKER_FILE) continue
    const path = join(dir, item.name)
    total += item.isDirectory() ? await diskBytes(path) : (await stat(path)).size
  }
  return total
}

/** Names in `dir` other than the marker. */
export async function listing (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(n => n !== STORE_MARKER_FILE).sort()
}

export function bytes (size: number, fill = 7): Uint8Array {
  return new Uint8Array(size).fill(fill)
}

/** Catches the error of `promise` (fails the test when it resolves). */
export async function errorOf (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}
