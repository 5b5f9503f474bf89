import { mkdir, readdir, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TEMP_PREFIX } from '../../src/cache/constants.js'
import type { ByteStore } from '../../src/cache/store.js'
import { bytes, diskBytes, errorOf, fixture, listing, makeStore, type Fixture } from './helpers.js'

describe('ByteStore across restarts and crashes', () => {
  let f: Fixture
  const stores: ByteStore[] = []
  beforeEach(async () => { f = await fixture() })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map(async s => { await s.close() }))
    await f.remove()
  })
  const open = async (maxBytes = 1000, inlineThreshold = 0): Promise<ByteStore> => {
    const s = makeStore(f, { maxBytes, inlineThreshold })
    stores.push(s)
    await s.open()
    return s
  }
  /** Stops the store and the database, as a process exit would, and opens them again. */
  const restart = async (s: ByteStore, maxBytes = 1000, inlineThreshold = 0): Promise<ByteStore> => {
    await s.close()
    await f.reopenDb()
    return await open(maxBytes, inlineThreshold)
  }

  it('keeps entries, metadata and LRU order across a restart', async () => {
    let s = await open(1000, 50)
    await s.put('a', bytes(100, 1), { meta: { lfn: 'lfn-a' } })
    await s.put('b', bytes(20, 2))
    await s.put('c', bytes(100, 3))
    ;(await s.get('a'))?.release()
    expect(s.entries().map(e => e.key)).toEqual(['b', 'c', 'a'])
    s = await restart(s, 1000, 50)
    expect(s.entries().map(e => e.key)).toEqual(['b', 'c', 'a'])
    expect(s.info('a')?.meta).toEqual({ lfn: 'lfn-a' })
    expect(await s.read('b')).toEqual(bytes(20, 2))
    expect(s.stats()).toMatchObject({ entries: 3, bytes: 220, hits: 1, misses: 0 })
    // The order is still the eviction order.
    await s.put('d', bytes(880))
    // (reading b made it the most recent)
    expect(s.entries().map(e => e.key)).toEqual(['a', 'b', 'd'])
  })

  it('sweeps an in-flight temp file and an entry whose index write never happened', async () => {
    let s = await open()
    await s.put('kept', bytes(100))
    await writeFile(join(s.directory, `${TEMP_PREFIX}abc`), bytes(300))
    await mkdir(join(s.directory, `${TEMP_PREFIX}dir`))
    await writeFile(join(s.directory, `${TEMP_PREFIX}dir`, '0'), bytes(10))
    // Renamed into place, crashed before the index batch.
    await writeFile(join(s.directory, '0123456789abcdef0123456789abcdef'), bytes(200))
    s = await restart(s)
    expect(await listing(s.directory)).toHaveLength(1)
    expect(await diskBytes(s.directory)).toBe(100)
    expect(s.entries().map(e => e.key)).toEqual(['kept'])
  })

  it('drops an index record whose file is gone or has the wrong size', async () => {
    let s = await open()
    await s.put('gone', bytes(100))
    await s.put('short', bytes(100))
    await s.put('fine', bytes(100))
    await s.putDirectory('dir', [{ name: 'a', source: bytes(10) }, { name: 'b', source: bytes(10) }])
    const names = Object.fromEntries(await Promise.all(['gone', 'short', 'dir'].map(async k => {
      const lease = await s.get(k)
      lease?.release()
      return [k, lease !== undefined && lease.kind !== 'inline' ? lease.path : '']
    })))
    await s.close()
    await rm(names.gone ?? '')
    await truncate(names.short ?? '', 50)
    await rm(join(names.dir ?? '', 'b'))
    await f.reopenDb()
    s = await open()
    expect(s.entries().map(e => e.key)).toEqual(['fine'])
    expect(s.stats()).toMatchObject({ entries: 1, bytes: 100 })
    expect(await diskBytes(s.directory)).toBe(100)
    // And the dropped records are gone from the index for good.
    s = await restart(s)
    expect(s.entries().map(e => e.key)).toEqual(['fine'])
  })

  it('drops a corrupt index value instead of failing to open', async () => {
    let s = await open()
    await s.put('good', bytes(100))
    await s.close()
    const cache = f.db.sublevel('cache')
    await cache.sublevel('entries').put('bad', '{not json')
    await cache.sublevel('entries').put('odd', JSON.stringify({ v: 1, kind: 'file', size: -1, name: 'x', created: 0 }))
    await cache.sublevel('atime').put('good', 'NaN')
    s = await open()
    expect(s.entries().map(e => e.key)).toEqual(['good'])
    const keys = await cache.sublevel('entries').keys().all()
    expect(keys).toEqual(['good'])
  })

  it('evicts down to a budget that shrank between runs', async () => {
    let s = await open(1000)
    for (const k of ['a', 'b', 'c', 'd']) await s.put(k, bytes(200))
    s = await restart(s, 500)
    expect(s.entries().map(e => e.key)).toEqual(['c', 'd'])
    expect(s.stats()).toMatchObject({ bytes: 400, evictions: 2 })
    expect(await diskBytes(s.directory)).toBe(400)
  })

  it('refuses to sweep a non-empty directory that is not a cache', async () => {
    const dir = join(f.root, 'store')
    await mkdir(dir)
    await writeFile(join(dir, 'precious.txt'), 'do not delete')
    const s = makeStore(f, { maxBytes: 1000 })
    const err = await errorOf(s.open())
    expect(err.name).toBe('CacheDirectoryError')
    expect(await readdir(dir)).toEqual(['precious.txt'])
  })
})
