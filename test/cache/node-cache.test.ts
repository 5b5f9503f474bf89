import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_COPY_BYTES, DEFAULT_IMAGE_BYTES, DEFAULT_RESULT_BYTES, DEFAULT_RESULT_INLINE_BYTES, DEFAULT_RESULT_TTL_MS, DEFAULT_SLICE_BYTES,
  NodeCache, createNodeCache, resolveCacheLimits
} from '../../src/cache/index.js'
import * as errors from '../../src/cache/errors.js'
import { bytes, errorOf, fixture, logger, type Fixture } from './helpers.js'

const MiB = 1024 * 1024

describe('NodeCache', () => {
  let f: Fixture
  beforeEach(async () => { f = await fixture() })
  afterEach(async () => { await f.remove() })

  it('has the documented defaults, each overridable', () => {
    expect([DEFAULT_RESULT_BYTES, DEFAULT_IMAGE_BYTES, DEFAULT_SLICE_BYTES, DEFAULT_COPY_BYTES]).toEqual([64 * MiB, 8 * 1024 * MiB, 16 * 1024 * MiB, 4 * 1024 * MiB])
    expect(resolveCacheLimits()).toEqual({
      resultBytes: DEFAULT_RESULT_BYTES,
      imageBytes: DEFAULT_IMAGE_BYTES,
      sliceBytes: DEFAULT_SLICE_BYTES,
      copyBytes: DEFAULT_COPY_BYTES,
      maxImageBytes: DEFAULT_IMAGE_BYTES,
      maxSliceBytes: DEFAULT_SLICE_BYTES,
      resultInlineBytes: DEFAULT_RESULT_INLINE_BYTES,
      resultTtlMs: DEFAULT_RESULT_TTL_MS
    })
    // `??`, not `||`: an explicit 0 stays 0.
    expect(resolveCacheLimits({ resultInlineBytes: 0, imageBytes: 5 })).toMatchObject({ resultInlineBytes: 0, imageBytes: 5, maxImageBytes: 5 })
    const cache = new NodeCache({ directory: f.root, level: f.level(), logger, limits: { sliceBytes: 1000 } })
    expect(cache.slices.store.maxBytes).toBe(1000)
    expect(cache.images.store.maxBytes).toBe(DEFAULT_IMAGE_BYTES)
  })

  it('runs the module example: three layers, one options object, stats', async () => {
    const cache = createNodeCache({ directory: join(f.root, 'cache'), level: f.level(), logger, limits: { imageBytes: 1024 ** 3 } })
    await cache.open()
    await cache.results.put({ modality: 'MR', bodyPart: 'HEART' }, 'sac:abc', [{ lfn: 'lfn-1' }])
    expect(await cache.results.get({ bodyPart: 'HEART ', modality: 'MR' }, 'sac:abc')).toEqual([{ lfn: 'lfn-1' }])
    expect(await cache.results.invalidate({ fields: { modality: 'MR', bodyPart: 'HEART' } })).toBe(1)

    await cache.images.put('lfn-1', 2, { manifest: new Uint8Array([1]), chunks: [{ name: '0', source: new Uint8Array(1024) }] })
    const image = await cache.images.get('lfn-1')
    expect(image?.chunkPath('0')).toMatch(/images/)
    image?.release()

    const incoming = join(f.root, 'incoming.dcm')
    await writeFile(incoming, bytes(300))
    await cache.slices.put('1.2.840.1.2.3', { path: incoming })
    expect(cache.slices.missing(['1.2.840.1.2.3', '1.2.840.1.2.4'])).toEqual(['1.2.840.1.2.4'])

    // Copies of other hospitals' images: a layer of their own, with its own budget and folder.
    await cache.copies.put('lfn-x', 1, { manifest: new Uint8Array([2]), chunks: [{ name: '0', source: new Uint8Array(512) }] })
    const copy = await cache.copies.get('lfn-x')
    expect(copy?.chunkPath('0')).toMatch(/copies/)
    copy?.release()
    expect(cache.images.latestVersion('lfn-x')).toBeUndefined()

    const stats = cache.stats()
    expect(stats.copies).toMatchObject({ entries: 1, bytes: 513, maxBytes: DEFAULT_COPY_BYTES })
    expect(stats.results).toMatchObject({ hits: 1, entries: 0, deletes: 1, maxBytes: DEFAULT_RESULT_BYTES })
    expect(stats.images).toMatchObject({ hits: 1, entries: 1, bytes: 1025, maxBytes: 1024 ** 3 })
    expect(stats.slices).toMatchObject({ entries: 1, bytes: 300 })
    await cache.close()
    expect((await errorOf(cache.slices.get('1.2.840.1.2.3'))).name).toBe('CacheClosedError')

    // Reopened over the same database and directory, everything is still there.
    await f.reopenDb()
    const again = new NodeCache({ directory: join(f.root, 'cache'), level: f.level(), logger, limits: { imageBytes: 1024 ** 3 } })
    await again.open()
    expect(again.images.latestVersion('lfn-1')).toBe(2)
    expect(again.copies.latestVersion('lfn-x')).toBe(1)
    expect(again.slices.has('1.2.840.1.2.3')).toBe(true)
    await again.close()
  })

  it('closes the layers already opened when one fails to open', async () => {
    await writeFile(join(f.root, 'images'), 'a file where a directory should be')
    const cache = new NodeCache({ directory: f.root, level: f.level(), logger })
    expect((await errorOf(cache.open())).name).toBe('CacheDirectoryError')
    expect((await errorOf(cache.results.get({}, 's'))).name).toBe('CacheClosedError')
  })

  it('has a complete, consistent error catalogue', () => {
    for (const [exported, Class] of Object.entries(errors)) {
      const err = new (Class as new (...args: unknown[]) => Error)('x', 'y', 1)
      expect(err).toBeInstanceOf(Error)
      expect(err.name).toBe(exported)
      expect((Class as { name: string }).name).toBe(exported)
    }
  })
})
