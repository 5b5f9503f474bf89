import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_POOL_CONCURRENCY, type QueryContext } from '../../src/tx/index.js'
import { ConcurrencyMeter, gate, openHarness, sleep, type Harness } from './helpers.js'
import { waitFor } from '../helpers/wait.js'

/** A task of `count` requests to `service`, each held `ms` while the meter counts it. */
function fetchAll (q: QueryContext, service: string, count: number, meter: ConcurrencyMeter, ms = 15): Promise<number[]> {
  return q.task(`fetch ${service}`, { service }, async (t) =>
    await t.parallel(Array.from({ length: count }, (_, i) => async (tt: typeof t) =>
      await tt.request(`get ${i}`, async (r) => await meter.measure(async () => {
        await sleep(ms, r.signal)
        return i
      })))))
}

describe('tx engine: bounded pools per service', () => {
  let h: Harness | undefined
  afterEach(async () => { await h?.close() })

  it('never runs more than 3 requests at once against one PACS (the paper default)', async () => {
    h = await openHarness()
    expect(DEFAULT_POOL_CONCURRENCY).toBe(3)
    const meter = new ConcurrencyMeter()
    let sawQueue = 0
    const result = await h.engine.run('get', async (q) => {
      const probe = setInterval(() => { sawQueue = Math.max(sawQueue, h?.engine.stats().pools['pacs:HOSPITAL_A']?.queued ?? 0) }, 2)
      try {
        return await fetchAll(q, 'pacs:HOSPITAL_A', 20, meter)
      } finally {
        clearInterval(probe)
      }
    })
    expect(result).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(meter.max).toBe(3)
    expect(sawQueue).toBeGreaterThan(0)
    // Idle pools are dropped.
    expect(h.engine.stats().pools).toEqual({})
  })

  it('keeps one pool per service key, shared by every query, with per-key and per-prefix limits', async () => {
    h = await openHarness({ poolConcurrency: { pacs: 2, 'peer:fast': 5 }, defaultPoolConcurrency: 1 })
    const meters = { a: new ConcurrencyMeter(), b: new ConcurrencyMeter(), fast: new ConcurrencyMeter(), other: new ConcurrencyMeter() }
    const engine = h.engine
    await Promise.all([
      engine.run('q1', async (q) => await fetchAll(q, 'pacs:A', 8, meters.a)),
      engine.run('q2', async (q) => await fetchAll(q, 'pacs:A', 8, meters.a)),
      engine.run('q3', async (q) => await fetchAll(q, 'pacs:B', 8, meters.b)),
      engine.run('q4', async (q) => await fetchAll(q, 'peer:fast', 12, meters.fast)),
      engine.run('q5', async (q) => await fetchAll(q, 'dht', 4, meters.other))
    ])
    expect(meters.a.max).toBe(2)
    expect(meters.b.max).toBe(2)
    expect(meters.fast.max).toBe(5)
    expect(meters.other.max).toBe(1)
  })

  it('a request that releases its slot lets the next one in while it finishes its local work', async () => {
    h = await openHarness({ defaultPoolConcurrency: 1 })
    const engine = h.engine
    const localWork = gate()
    const order: string[] = []
    const first = engine.run('first', async (q) => await q.request('build', { service: 'pacs:Y', join: 'same' }, async (r) => {
      order.push('first: fetched')
      r.releaseService()
      r.releaseService() // idempotent
      await localWork.promise
      order.push('first: built')
      return 1
    }))
    // A caller of the same build joins it; another build gets the freed slot at once.
    const joined = engine.run('joined', async (q) => await q.request('build', { service: 'pacs:Y', join: 'same' }, async () => -1))
    const second = engine.run('second', async (q) => await q.request('build', { service: 'pacs:Y', join: 'other' }, async () => {
      order.push('second: fetched')
      return 2
    }))
    expect(await second).toBe(2)
    expect(order).toEqual(['first: fetched', 'second: fetched'])
    localWork.open()
    expect(await Promise.all([first, joined])).toEqual([1, 1])
    expect(order).toEqual(['first: fetched', 'second: fetched', 'first: built'])
    // A failure after the release is still the request's failure.
    await expect(engine.run('fails', async (q) => await q.request('build', { service: 'pacs:Y' }, async (r) => {
      r.releaseService()
      throw new Error('assembly failed')
    }))).rejects.toMatchObject({ name: 'TransactionError' })
    expect(h.engine.stats().pools).toEqual({})
  })

  it('keeps a slot until an aborted request has really stopped', async () => {
    h = await openHarness()
    const meter = new ConcurrencyMeter()
    const engine = h.engine
    const controller = new AbortController()
    // Three requests that ignore their signal for 300 ms hold the whole pool.
    const stubborn = engine.run('stubborn', async (q) => await q.task('t', { service: 'pacs:X' }, async (t) =>
      await t.parallel([0, 1, 2].map((i) => async (tt: typeof t) =>
        await tt.request(`r${i}`, async () => await meter.measure(async () => { await sleep(300) }))))), { signal: controller.signal })
    await waitFor(() => meter.current === 3, 20_000, 'the stubborn requests to hold the pool')
    controller.abort()
    const polite = engine.run('polite', async (q) => await fetchAll(q, 'pacs:X', 6, meter, 5))
    await expect(stubborn).rejects.toMatchObject({ name: 'AbortError' })
    await polite
    expect(meter.max).toBe(3)
  })
})
