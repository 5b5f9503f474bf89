import { afterEach, describe, expect, it } from 'vitest'
import {
  BusyError, DEFAULT_MAX_CONCURRENT_QUERIES, DEFAULT_MAX_QUEUED_QUERIES, EngineClosedError, TransactionAbortError,
  type TxProgressEvent
} from '../../src/tx/index.js'
import { gate, openHarness, sleep, type Harness } from './helpers.js'
import { waitFor } from '../helpers/wait.js'

describe('tx engine: admission control', () => {
  let h: Harness | undefined
  afterEach(async () => { await h?.close() })

  it('has sane documented defaults', () => {
    expect(DEFAULT_MAX_CONCURRENT_QUERIES).toBeGreaterThan(0)
    expect(DEFAULT_MAX_QUEUED_QUERIES).toBeGreaterThanOrEqual(DEFAULT_MAX_CONCURRENT_QUERIES)
  })

  it('runs N, queues M in FIFO order, refuses the next with BusyError, and counts it all', async () => {
    h = await openHarness({ maxConcurrentQueries: 2, maxQueuedQueries: 3 })
    const engine = h.engine
    const release = gate()
    const order: number[] = []
    let concurrent = 0
    let maxConcurrent = 0
    const positions: number[] = []
    const runs = Array.from({ length: 5 }, async (_, i) => await engine.run(`q${i}`, async (q) => {
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      order.push(i)
      await q.tool('wait', async () => { await release.promise })
      concurrent--
      return i
    }, { onProgress: (e: TxProgressEvent) => { if (e.type === 'tx:queued') positions.push(e.position) } }))
    await waitFor(() => positions.length === 3 && order.length === 2, 20_000, 'two running, three queued')
    expect(engine.stats()).toMatchObject({ running: 2, queued: 3, rejected: 0 })
    expect(positions).toEqual([1, 2, 3])

    const refused = await engine.run('q5', async () => 5).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(BusyError)
    expect(refused).toMatchObject({ name: 'BusyError', running: 2, queued: 3 })
    expect(engine.stats().rejected).toBe(1)

    release.open()
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4])
    expect(order).toEqual([0, 1, 2, 3, 4])
    expect(maxConcurrent).toBe(2)
    expect(engine.stats()).toMatchObject({ running: 0, queued: 0, rejected: 1, completed: 5, failed: 0 })
    // A slot is free again: no longer busy.
    expect(await engine.run('q6', async () => 6)).toBe(6)
  })

  it('a caller aborting while queued leaves the queue without running anything', async () => {
    h = await openHarness({ maxConcurrentQueries: 1, maxQueuedQueries: 2 })
    const engine = h.engine
    const release = gate()
    const first = engine.run('first', async () => { await release.promise; return 'first' })
    const controller = new AbortController()
    let ran = false
    const queued = engine.run('queued', async () => { ran = true }, { signal: controller.signal })
    const third = engine.run('third', async () => 'third')
    await waitFor(() => engine.stats().queued === 2, 20_000, 'two queued')
    controller.abort()
    const err = await queued.catch((e: unknown) => e) as TransactionAbortError
    expect(err).toBeInstanceOf(TransactionAbortError)
    expect(err.step).toEqual({ kind: 'query', name: 'queued' })
    expect(engine.stats().queued).toBe(1)
    release.open()
    expect(await first).toBe('first')
    expect(await third).toBe('third')
    expect(ran).toBe(false)
    expect(engine.stats()).toMatchObject({ completed: 2, failed: 1, aborted: 1 })
  })

  it('maxQueuedQueries 0: BUSY as soon as every slot is taken', async () => {
    h = await openHarness({ maxConcurrentQueries: 1, maxQueuedQueries: 0 })
    const release = gate()
    const first = h.engine.run('first', async () => { await release.promise })
    await expect(h.engine.run('second', async () => {})).rejects.toMatchObject({ name: 'BusyError' })
    release.open()
    await first
  })

  it('close() aborts running and queued queries, waits for their rollback, then refuses new ones', async () => {
    h = await openHarness({ maxConcurrentQueries: 1, maxQueuedQueries: 1 })
    const engine = h.engine
    const undone: string[] = []
    const mark = engine.compensation<string>('test.mark', (label) => { undone.push(label) })
    let working = false
    const running = engine.run('running', async (q) => {
      await q.tool('work', async (s) => {
        await s.compensate(mark, 'running')
        working = true
        await sleep(10_000, s.signal)
      })
    })
    const queued = engine.run('queued', async () => {})
    const outcomes = Promise.allSettled([running, queued])
    await waitFor(() => working && engine.stats().queued === 1, 20_000, 'one running, one queued')
    await engine.close()
    const [a, b] = await outcomes
    expect(a.status === 'rejected' && (a.reason as Error).name).toBe('AbortError')
    expect(b.status === 'rejected' && (b.reason as Error).name).toBe('AbortError')
    expect(undone).toEqual(['running'])
    await expect(engine.run('late', async () => {})).rejects.toBeInstanceOf(EngineClosedError)
  })
})
