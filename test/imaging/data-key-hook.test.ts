/**
 * The prepare hook `onDataKey`: callers that start or join a build see its
 * data key as soon as it is drawn (so a key release can be wrapped while the
 * image is built), and it is the key then stored for the version; an image
 * found in the cache shows no key.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/tmp.js'
import { folderSlices, openSite, seriesInfo, writeTestSeries, type Site } from './helpers.js'

describe('image pipeline: the data key hook', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let site: Site
  const pacs = { calls: 0, delayMs: 5 }

  beforeEach(async () => {
    tmp = await tempDir('dm2-keyhook-')
    const seriesDir = join(tmp.path, 'pacs')
    const instances = await writeTestSeries(seriesDir)
    pacs.calls = 0
    site = await openSite({ root: tmp.path, slices: folderSlices(seriesDir, pacs), series: (lfn) => seriesInfo(lfn, instances, 3) })
  })
  afterEach(async () => {
    await site.close()
    await tmp.remove()
  })

  it('shows the builder and every joined caller the key stored for the version, before the slices are fetched', async () => {
    const seen: Array<{ caller: number, key: Uint8Array, version: number, fetchesSoFar: number }> = []
    const runs = [0, 1, 2].map(async (caller) => await site.pipeline.prepare('lfn-1', {
      onDataKey: (key, version) => { seen.push({ caller, key, version, fetchesSoFar: pacs.calls }) }
    }))
    await Promise.all(runs)
    expect(pacs.calls).toBe(1)
    expect(seen.map(s => s.caller).sort()).toEqual([0, 1, 2])
    const stored = await site.keys.get('lfn-1', 3)
    expect(stored).toBeDefined()
    for (const s of seen) {
      expect(s.version).toBe(3)
      expect(Buffer.compare(s.key, stored?.dataKey as Uint8Array)).toBe(0)
    }
    // The builder's caller saw it before the PACS was asked.
    expect(seen.some(s => s.fetchesSoFar === 0)).toBe(true)
  })

  it('shows nothing for an image served from the cache, and a new key for a new build', async () => {
    const first: Uint8Array[] = []
    await site.pipeline.prepare('lfn-2', { onDataKey: (key) => { first.push(key) } })
    const again: Uint8Array[] = []
    const cached = await site.pipeline.prepare('lfn-2', { onDataKey: (key) => { again.push(key) } })
    expect(cached.cached).toBe(true)
    expect(again).toEqual([])
    await site.cache.images.invalidate('lfn-2')
    const rebuilt: Uint8Array[] = []
    await site.pipeline.prepare('lfn-2', { onDataKey: (key) => { rebuilt.push(key) } })
    expect(first).toHaveLength(1)
    expect(rebuilt).toHaveLength(1)
    expect(Buffer.compare(first[0] as Uint8Array, rebuilt[0] as Uint8Array)).not.toBe(0)
    expect(Buffer.compare((await site.keys.get('lfn-2', 3))?.dataKey as Uint8Array, rebuilt[0] as Uint8Array)).toBe(0)
  })

  it('a throwing hook does not fail the preparation', async () => {
    const prepared = await site.pipeline.prepare('lfn-3', { onDataKey: () => { throw new Error('caller bug') } })
    expect(prepared.cached).toBe(false)
    expect(await site.keys.get('lfn-3', 3)).toBeDefined()
  })
})
