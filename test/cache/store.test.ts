import { chmod, readFile, writeFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ByteStore } from '../../src/cache/store.js'
import { bytes, diskBytes, errorOf, fixture, listing, makeStore, type Fixture } from './helpers.js'
import { waitFor } from '../helpers/wait.js'

describe('ByteStore', () => {
  let f: Fixture
  const stores: ByteStore[] = []
  beforeEach(async () => { f = await fixture() })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map(async s => { await s.close() }))
    await f.remove()
  })
  const open = async (maxBytes: number, inlineThreshold = 0, maxEntryBytes?: number): Promise<ByteStore> => {
    const s = makeStore(f, { maxBytes, inlineThreshold, maxEntryBytes })
    stores.push(s)
    await s.open()
    return s
  }

  it('stores and reads back bytes, inline and as files', async () => {
    const s = await open(10_000, 100)
    await s.put('small', bytes(50, 1))
    await s.put('large', bytes(500, 2))
    expect(s.info('small')?.kind).toBe('inline')
    expect(s.info('large')?.kind).toBe('file')
    expect(await s.read('small')).toEqual(bytes(50, 1))
    expect(await s.read('large')).toEqual(bytes(500, 2))
    // Only the file entry is on disk.
    expect(await diskBytes(s.directory)).toBe(500)
    const lease = await s.get('large')
    expect(lease?.kind).toBe('file')
    if (lease?.kind === 'file') expect(await readFile(lease.path)).toEqual(Buffer.from(bytes(500, 2)))
    lease?.release()
    expect(s.stats()).toMatchObject({ hits: 3, misses: 0, bytes: 550, entries: 2, puts: 2 })
  })

  it('evicts the least recently used entries, counting a get as a use', async () => {
    const s = await open(300)
    await s.put('a', bytes(100))
    await s.put('b', bytes(100))
    await s.put('c', bytes(100))
    expect((await s.get('a'))?.release()).toBeUndefined() // a is now the most recent
    await s.put('d', bytes(100))
    expect(s.entries().map(e => e.key)).toEqual(['c', 'a', 'd'])
    await s.put('e', bytes(150))
    expect(s.entries().map(e => e.key)).toEqual(['d', 'e'])
    expect(s.stats()).toMatchObject({ evictions: 3, bytes: 250, entries: 2, hits: 1 })
    expect(await diskBytes(s.directory)).toBe(250)
    expect(await s.read('b')).toBeUndefined()
    expect(s.stats().misses).toBe(1)
  })

  it('refuses an entry larger than the budget with a typed error, changing nothing', async () => {
    const s = await open(1000, 0, 400)
    await s.put('keep', bytes(300))
    const err = await errorOf(s.put('big', bytes(401)))
    expect(err.name).toBe('CacheEntryTooLargeError')
    const streamed = await errorOf(s.put('big', (async function * () { for (let i = 0; i < 10; i++) yield bytes(100) })()))
    expect(streamed.name).toBe('CacheEntryTooLargeError')
    expect(s.entries().map(e => e.key)).toEqual(['keep'])
    expect(await listing(s.directory)).toHaveLength(1)
    expect(s.stats().bytes).toBe(300)
  })

  it('replaces an entry under the same key and frees the old bytes', async () => {
    const s = await open(1000)
    await s.put('k', bytes(600, 1))
    await s.put('k', bytes(700, 2))
    expect(await s.read('k')).toEqual(bytes(700, 2))
    expect(s.stats()).toMatchObject({ bytes: 700, entries: 1, evictions: 0 })
    expect(await diskBytes(s.directory)).toBe(700)
  })

  it('keeps concurrent puts of one key consistent: one winner, nothing leaked', async () => {
    const s = await open(100_000, 0)
    await Promise.all(Array.from({ length: 12 }, async (_, i) => { await s.put('same', bytes(1000 + i, i)) }))
    const value = await s.read('same')
    expect(value).toBeDefined()
    const size = value?.byteLength ?? 0
    expect(value).toEqual(bytes(size, size - 1000))
    expect(s.stats()).toMatchObject({ entries: 1, bytes: size })
    expect(await listing(s.directory)).toHaveLength(1)
  })

  it('streams an entry in from an async iterable and out as a stream', async () => {
    const s = await open(10_000)
    const parts = ['hello ', 'cache ', 'world']
    await s.put('t', (async function * () { for (const p of parts) yield new TextEncoder().encode(p) })())
    const stream = await s.createReadStream('t')
    expect(stream).toBeDefined()
    if (stream !== undefined) expect(await text(stream)).toBe('hello cache world')
  })

  it('moves a file in, and puts it back when the commit fails', async () => {
    const s = await open(1000)
    const src = join(f.root, 'incoming.dcm')
    await writeFile(src, bytes(400, 9))
    await s.put('moved', { path: src })
    expect(await errorOf(stat(src))).toHaveProperty('code', 'ENOENT')
    expect(await s.read('moved')).toEqual(bytes(400, 9))

    // Pinned, 'moved' cannot be evicted: the next file does not fit.
    const lease = await s.get('moved')
    await writeFile(src, bytes(700, 3))
    await chmod(src, 0o644)
    const err = await errorOf(s.put('other', { path: src }))
    expect(err.name).toBe('CacheFullError')
    expect(await readFile(src)).toEqual(Buffer.from(bytes(700, 3)))
    expect((await stat(src)).mode & 0o777).toBe(0o644)
    lease?.release()
    await s.put('other', { path: src, move: false })
    expect(await readFile(src)).toEqual(Buffer.from(bytes(700, 3)))
    expect(s.entries().map(e => e.key)).toEqual(['other'])
  })

  it('keeps a leased entry on disk until release, even once evicted or replaced', async () => {
    const s = await open(1000)
    await s.put('a', bytes(500, 1))
    const lease = await s.get('a')
    if (lease?.kind !== 'file') throw new Error('expected a file lease')
    await s.put('a', bytes(400, 2))
    // The old file is still readable and still counted.
    expect(await readFile(lease.path)).toEqual(Buffer.from(bytes(500, 1)))
    expect(s.stats()).toMatchObject({ bytes: 900, pinned: 1 })
    // Evicting the new 'a' would not be enough while the old one is leased.
    expect((await errorOf(s.put('b', bytes(600)))).name).toBe('CacheFullError')
    expect(s.has('a')).toBe(true)
    lease.release()
    lease.release() // idempotent
    await waitFor(() => s.stats().bytes === 400, 20_000, 'the superseded file to go')
    expect(s.stats()).toMatchObject({ bytes: 400, pinned: 0 })
    await expect(stat(lease.path)).rejects.toHaveProperty('code', 'ENOENT')
    await s.put('b', bytes(600))
    expect(s.stats()).toMatchObject({ bytes: 1000, entries: 2, evictions: 0 })
  })

  it('stores a directory entry all or nothing', async () => {
    const s = await open(1000)
    await s.putDirectory('d', [{ name: 'one', source: bytes(100, 1) }, { name: 'two', source: [bytes(50, 2), bytes(50, 2)] }])
    const lease = await s.get('d')
    if (lease?.kind !== 'dir') throw new Error('expected a directory lease')
    expect(lease.files).toEqual([['one', 100], ['two', 100]])
    expect(await readFile(join(lease.path, 'two'))).toEqual(Buffer.from(bytes(100, 2)))
    lease.release()
    const failing = (async function * () { yield bytes(10); throw new Error('PACS went away') })()
    const err = await errorOf(s.putDirectory('e', [{ name: 'one', source: bytes(10) }, { name: 'two', source: failing }]))
    expect(err.message).toBe('PACS went away')
    expect(s.has('e')).toBe(false)
    expect(await listing(s.directory)).toHaveLength(1)
    expect((await errorOf(s.putDirectory('f', [{ name: '../x', source: bytes(1) }]))).name).toBe('CacheKeyError')
    expect((await errorOf(s.putDirectory('f', [{ name: 'x', source: bytes(1) }, { name: 'x', source: bytes(1) }]))).name).toBe('CacheKeyError')
    const stream = await s.createReadStream('d', 'one')
    expect(stream).toBeDefined()
    expect((await errorOf(s.createReadStream('d'))).name).toBe('CacheEntryKindError')
    stream?.destroy()
  })

  it('leaves nothing behind when a put is aborted or its source fails', async () => {
    const s = await open(10_000)
    const controller = new AbortController()
    const source = (async function * () {
      yield bytes(100)
      controller.abort(new Error('caller gave up'))
      yield bytes(100)
    })()
    const err = await errorOf(s.put('x', source, { signal: controller.signal }))
    expect(err.message).toBe('caller gave up')
    expect(s.has('x')).toBe(false)
    expect(await listing(s.directory)).toEqual([])
    expect(s.stats()).toMatchObject({ entries: 0, bytes: 0, puts: 0 })
  })

  it('leaves nothing behind when the index write fails', async () => {
    const level = f.level()
    const s = makeStore(f, { maxBytes: 10_000 }, 'store', level)
    stores.push(s)
    await s.open()
    await s.put('before', bytes(100))
    // The store's next index batch fails, as on a full disk.
    const realBatch = level.batch.bind(level) as () => { write: (...a: unknown[]) => Promise<void> }
    Object.assign(level, {
      batch: () => {
        const b = realBatch()
        b.write = async () => { throw new Error('disk full') }
        return b
      }
    })
    const err = await errorOf(s.put('after', bytes(300)))
    expect(err.message).toBe('disk full')
    Object.assign(level, { batch: realBatch })
    expect(s.has('after')).toBe(false)
    expect(await diskBytes(s.directory)).toBe(100)
    expect(await listing(s.directory)).toHaveLength(1)
    expect(s.stats()).toMatchObject({ entries: 1, bytes: 100, puts: 1 })
    await s.put('after', bytes(300))
    expect(s.stats().bytes).toBe(400)
  })

  it('expires entries after their time to live', async () => {
    // Only Date is faked: a slow machine cannot expire the entry before `has` looks.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const s = await open(10_000)
      await s.put('short', bytes(10), { ttlMs: 30 })
      await s.put('long', bytes(10))
      expect(s.has('short')).toBe(true)
      vi.setSystemTime(Date.now() + 60)
      expect(await s.read('short')).toBeUndefined()
      expect(s.stats()).toMatchObject({ expirations: 1, misses: 1, entries: 1 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('deletes atomically with alsoDelete', async () => {
    const s = await open(10_000)
    await s.put('v1', bytes(10))
    await s.put('v2', bytes(20), { alsoDelete: ['v1', 'never-there'] })
    expect(s.entries().map(e => e.key)).toEqual(['v2'])
    expect(await s.delete(['v2', 'v3'])).toBe(1)
    expect(s.stats()).toMatchObject({ deletes: 1, entries: 0, bytes: 0 })
  })

  it('rejects bad input with typed errors and refuses work when closed', async () => {
    const s = await open(1000)
    expect((await errorOf(s.put('', bytes(1)))).name).toBe('CacheKeyError')
    expect((await errorOf(s.put('k'.repeat(2000), bytes(1)))).name).toBe('CacheKeyError')
    expect((await errorOf(s.put('k', 'text' as unknown as Uint8Array))).name).toBe('CacheInputError')
    expect((await errorOf(s.put('k', [42] as unknown as Uint8Array[]))).name).toBe('CacheInputError')
    expect((await errorOf(s.put('k', bytes(1), { meta: { big: 'x'.repeat(70_000) } }))).name).toBe('CacheInputError')
    expect((await errorOf(s.put('k', bytes(1), { ttlMs: -1 }))).name).toBe('CacheInputError')
    expect((await errorOf(s.put('k', { path: f.root }))).name).toBe('CacheInputError')
    expect(s.stats().entries).toBe(0)
    expect(await listing(s.directory)).toEqual([])
    await s.close()
    expect((await errorOf(s.get('k'))).name).toBe('CacheClosedError')
    expect((await errorOf(s.put('k', bytes(1)))).name).toBe('CacheClosedError')
  })
})
