import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ImageCache, type ImageInput } from '../../src/cache/images.js'
import { bytes, diskBytes, errorOf, fixture, listing, logger, type Fixture } from './helpers.js'

function image (chunks: number, fill: number, chunkSize = 100): ImageInput {
  return {
    manifest: new TextEncoder().encode(`manifest-${fill}`),
    chunks: Array.from({ length: chunks }, (_, i) => ({ name: String(i), source: bytes(chunkSize, fill + i) }))
  }
}

describe('ImageCache (layer 2)', () => {
  let f: Fixture
  const caches: ImageCache[] = []
  beforeEach(async () => { f = await fixture() })
  afterEach(async () => {
    await Promise.all(caches.splice(0).map(async c => { await c.close() }))
    await f.remove()
  })
  const open = async (maxBytes = 10_000): Promise<ImageCache> => {
    const c = new ImageCache({ directory: join(f.root, 'images'), level: f.level(), logger, limits: { maxBytes } })
    caches.push(c)
    await c.open()
    return c
  }

  it('stores chunks and manifest under lfn@version and serves them pinned', async () => {
    const c = await open()
    await c.put('lfn-1', 1, image(3, 10))
    const lease = await c.get('lfn-1')
    expect(lease).toMatchObject({ lfn: 'lfn-1', version: 1, size: 300 + 'manifest-10'.length })
    expect(new TextDecoder().decode(lease?.manifest)).toBe('manifest-10')
    expect(lease?.chunks).toEqual([['0', 100], ['1', 100], ['2', 100]])
    expect(await readFile(lease?.chunkPath('2') ?? '')).toEqual(Buffer.from(bytes(100, 12)))
    expect(() => lease?.chunkPath('../etc/passwd')).toThrow(expect.objectContaining({ name: 'CacheKeyError' }))
    lease?.release()
    const stream = await c.createChunkStream('lfn-1', 1, '1')
    expect(stream === undefined ? undefined : new Uint8Array(await buffer(stream))).toEqual(bytes(100, 11))
    expect(await c.get('lfn-2')).toBeUndefined()
    expect(c.stats()).toMatchObject({ hits: 2, misses: 1 })
  })

  it('drops the old version when a new one arrives, and refuses an older one', async () => {
    const c = await open()
    await c.put('lfn-1', 1, image(3, 10))
    const old = await c.get('lfn-1', 1)
    const oldDir = join(old?.chunkPath('0') ?? '', '..')
    old?.release()
    await c.put('lfn-1', 2, image(2, 20))
    expect(c.has('lfn-1', 1)).toBe(false)
    expect(c.latestVersion('lfn-1')).toBe(2)
    await expect(stat(oldDir)).rejects.toHaveProperty('code', 'ENOENT')
    expect(await diskBytes(c.store.directory)).toBe(200 + 'manifest-20'.length)
    const err = await errorOf(c.put('lfn-1', 1, image(1, 30)))
    expect(err.name).toBe('CacheStaleVersionError')
    expect(await c.get('lfn-1', 1)).toBeUndefined()
    expect((await c.get('lfn-1'))?.version).toBe(2)
  })

  it('keeps the newest version across a restart and can invalidate', async () => {
    let c = await open()
    await c.put('lfn-a', 5, image(2, 1))
    await c.put('lfn-b', 1, image(1, 2))
    await c.close()
    await f.reopenDb()
    c = await open()
    expect(c.latestVersion('lfn-a')).toBe(5)
    expect(c.latestVersion('lfn-b')).toBe(1)
    expect(await c.invalidate('lfn-a', 6)).toBe(1)
    expect(c.latestVersion('lfn-a')).toBe(undefined)
    expect(await c.invalidate('lfn-b', 1)).toBe(0)
    expect(c.has('lfn-b', 1)).toBe(true)
  })

  it('evicts whole images, never part of one, and fails atomically', async () => {
    const c = await open(1000)
    await c.put('a', 1, image(5, 1))
    await c.put('b', 1, image(5, 2))
    expect(c.has('a', 1)).toBe(false)
    expect(c.stats().evictions).toBe(1)
    const failing: ImageInput = {
      manifest: new Uint8Array(4),
      chunks: [{ name: '0', source: bytes(100) }, { name: '1', source: (async function * () { yield bytes(50); throw new Error('peer vanished') })() }]
    }
    expect((await errorOf(c.put('c', 1, failing))).message).toBe('peer vanished')
    expect(c.has('c', 1)).toBe(false)
    expect(await listing(c.store.directory)).toHaveLength(1)
  })

  it('rejects bad LFNs, versions and chunk names with typed errors', async () => {
    const c = await open()
    for (const [lfn, version] of [['', 1], ['a@b', 1], ['a b', 1], ['x'.repeat(300), 1], ['ok', -1], ['ok', 1.5]] as const) {
      expect((await errorOf(c.put(lfn, version, image(1, 1)))).name).toBe('CacheKeyError')
    }
    expect((await errorOf(c.put('ok', 1, { manifest: new Uint8Array(1), chunks: [{ name: 'manifest', source: bytes(1) }] }))).name).toBe('CacheKeyError')
    expect((await errorOf(c.put('ok', 1, { manifest: new Uint8Array(1), chunks: [{ name: '.hidden', source: bytes(1) }] }))).name).toBe('CacheKeyError')
    expect(c.stats().entries).toBe(0)
  })
})
