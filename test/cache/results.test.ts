import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { join } from 'node:path'
import { ResultCache } from '../../src/cache/results.js'
import { diskBytes, errorOf, fixture, logger, type Fixture } from './helpers.js'

describe('ResultCache (layer 1)', () => {
  let f: Fixture
  const caches: ResultCache[] = []
  beforeEach(async () => { f = await fixture() })
  afterEach(async () => {
    await Promise.all(caches.splice(0).map(async c => { await c.close() }))
    await f.remove()
  })
  const open = async (limits: { maxBytes?: number, inlineThreshold?: number, ttlMs?: number } = {}): Promise<ResultCache> => {
    const c = new ResultCache({ directory: join(f.root, 'results'), level: f.level(), logger, limits: { maxBytes: 1_000_000, ...limits } })
    caches.push(c)
    await c.open()
    return c
  }

  const mr = { where: { and: [{ field: 'modality', op: '=', value: 'MR' }, { field: 'bodyPart', op: '=', value: 'HEART' }] } }
  const ct = { modality: 'CT' }
  const series = { modality: 'MR', bodyPart: 'HEART', site: 'lyon' }

  it('hits for an equivalent query under the same scope only', async () => {
    const c = await open()
    expect(await c.put(mr, 'sac:a', [{ lfn: 'l1' }])).toBe(true)
    const same = { where: { and: [{ value: 'HEART', op: '=', field: 'bodyPart' }, { field: 'modality', value: 'MR ', op: '=' }] } }
    expect(await c.get(same, 'sac:a')).toEqual([{ lfn: 'l1' }])
    expect(await c.get(mr, 'sac:b')).toBeUndefined()
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 })
  })

  it('drops exactly the results a registered or changed series could match', async () => {
    const c = await open()
    await c.put(mr, 's', ['mr'])
    await c.put(ct, 's', ['ct'])
    await c.put({ site: 'grenoble' }, 's', ['grenoble'])
    await c.put({ where: 'free text we cannot analyse' }, 's', ['opaque'])
    expect(await c.invalidate({ fields: series })).toBe(2) // mr and the opaque one
    expect(await c.get(mr, 's')).toBeUndefined()
    expect(await c.get(ct, 's')).toEqual(['ct'])
    expect(await c.get({ site: 'grenoble' }, 's')).toEqual(['grenoble'])
    // A series that moved from CT to MR: the CT result is stale too.
    expect(await c.invalidate({ fields: series, previous: { ...series, modality: 'CT' } })).toBe(1)
    expect(await c.get(ct, 's')).toBeUndefined()
    expect(c.stats().deletes).toBe(3)
  })

  it('keeps dependencies across a restart', async () => {
    let c = await open()
    await c.put(mr, 's', ['mr'])
    await c.put(ct, 's', ['ct'])
    await c.close()
    await f.reopenDb()
    c = await open()
    expect(await c.invalidate({ fields: { modality: 'CT', bodyPart: 'HEAD' } })).toBe(1)
    expect(await c.get(mr, 's')).toEqual(['mr'])
  })

  it('refuses a result computed before an invalidation that affects it', async () => {
    const c = await open()
    const before = c.epoch()
    await c.invalidate({ fields: series })
    expect(await c.put(mr, 's', ['stale'], { epoch: before })).toBe(false)
    expect(await c.get(mr, 's')).toBeUndefined()
    // An unrelated change does not make it stale.
    expect(await c.put(ct, 's', ['fresh'], { epoch: before })).toBe(true)
    // After a clear nothing computed earlier can be proven fresh.
    const beforeClear = c.epoch()
    await c.clear()
    expect(await c.put(ct, 's', ['x'], { epoch: beforeClear })).toBe(false)
  })

  it('keeps large results as files and honours the time to live', async () => {
    // Only the clock is faked (Date), so a slow machine cannot expire the entry before it is read.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const c = await open({ inlineThreshold: 100, ttlMs: 40 })
      const big = Array.from({ length: 50 }, (_, i) => ({ lfn: `lfn-${i}` }))
      await c.put(ct, 's', big)
      await c.put(mr, 's', ['small'])
      expect(await diskBytes(c.store.directory)).toBe(JSON.stringify(big).length)
      expect(await c.get(ct, 's')).toEqual(big)
      vi.setSystemTime(Date.now() + 60)
      expect(await c.get(ct, 's')).toBeUndefined()
      expect(c.stats()).toMatchObject({ expirations: 1 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('rejects bad input with typed errors', async () => {
    const c = await open({ maxBytes: 1000 })
    expect((await errorOf(c.put(mr, '', []))).name).toBe('CacheKeyError')
    expect((await errorOf(c.put({ n: Infinity }, 's', []))).name).toBe('CacheKeyError')
    expect((await errorOf(c.put(mr, 's', 'x'.repeat(2000)))).name).toBe('CacheEntryTooLargeError')
    expect((await errorOf(c.put(mr, 's', { n: 1n } as never))).name).toBe('CacheInputError')
    expect(c.stats().entries).toBe(0)
  })
})
