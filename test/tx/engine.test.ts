import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TransactionError, TxDefinitionError } from '../../src/tx/index.js'
import { gate, openHarness, sleep, type Harness } from './helpers.js'

describe('tx engine: queries, tasks, requests, tools', () => {
  let h: Harness
  beforeEach(async () => { h = await openHarness() })
  afterEach(async () => { await h.close() })

  it('runs tasks in sequence: each starts after the previous one ended', async () => {
    const log: string[] = []
    const result = await h.engine.run('seq', async (q) => await q.sequence([
      async (qq) => await qq.task('first', { service: 'pacs:A' }, async (t) => {
        log.push('first:start')
        await sleep(30, t.signal)
        log.push('first:end')
        return 1
      }),
      async (qq) => await qq.task('second', { service: 'pacs:B' }, async () => {
        log.push('second:start')
        log.push('second:end')
        return 'two'
      })
    ]))
    expect(result).toEqual([1, 'two'])
    const typed: [number, string] = result
    expect(typed[1].length).toBe(3)
    expect(log).toEqual(['first:start', 'first:end', 'second:start', 'second:end'])
    expect(await h.journalKeys()).toEqual([])
  })

  it('runs tasks in parallel: all have started before any finishes', async () => {
    const g = gate()
    let started = 0
    const task = (n: number) => async (q: Parameters<Parameters<typeof h.engine.run>[1]>[0]) =>
      await q.task(`t${n}`, { service: `peer:${n}` }, async (t) => {
        started++
        if (started === 3) g.open()
        await g.promise
        return await t.request(`r${n}`, async () => n * 10)
      })
    const result = await h.engine.run('par', async (q) => await q.parallel([task(1), task(2), task(3)]))
    expect(result).toEqual([10, 20, 30])
    expect(started).toBe(3)
  })

  it('lets a query use requests directly and tools from every driver', async () => {
    const steps: string[] = []
    const value = await h.engine.run('direct', async (q) => {
      const ok = await q.tool('access-check', (s) => { steps.push(`${s.step.kind}:${s.step.name}`); return true })
      const n = await q.request('lookup', { service: 'registry' }, async (r) => {
        steps.push(`${r.step.kind}:${r.step.name}@${r.service}`)
        return await r.tool('cache', (s) => { steps.push(s.path.join('/')); return 7 })
      })
      return ok ? n : -1
    })
    expect(value).toBe(7)
    expect(steps).toEqual(['tool:access-check', 'request:lookup@registry', 'direct/lookup/cache'])
    expect(h.engine.stats()).toMatchObject({ completed: 1, failed: 0, running: 0, queued: 0 })
  })

  it('commits: the journal forgets a transaction that registered compensations', async () => {
    const undone: string[] = []
    const mark = h.engine.compensation<{ id: string }>('test.mark', ({ id }) => { undone.push(id) })
    await h.engine.run('commit', async (q) => {
      await q.tool('a', async (s) => { await s.compensate(mark, { id: 'a' }) })
      expect((await h.journalKeys()).length).toBeGreaterThan(0)
    })
    expect(undone).toEqual([])
    expect(await h.journalKeys()).toEqual([])
  })

  it('refuses malformed names and unknown compensation kinds with typed errors', async () => {
    await expect(h.engine.run('', async () => 1)).rejects.toMatchObject({ name: 'TxDefinitionError' })
    expect(() => h.engine.compensation('Not A Kind', () => {})).toThrow(TxDefinitionError)
    h.engine.compensation('test.once', () => {})
    expect(() => h.engine.compensation('test.once', () => {})).toThrow(/twice/)
    const err = await h.engine.run('bad', async (q) => {
      await q.tool('x', async (s) => { await s.compensate({ kind: 'test.unregistered' }, {}) })
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TransactionError)
    expect((err as TransactionError).step).toEqual({ kind: 'tool', name: 'x' })
    expect(((err as TransactionError).cause as Error).name).toBe('UnknownCompensationError')
    const big = await h.engine.run('big', async (q) => {
      await q.tool('y', async (s) => { await s.compensate(h.engine.compensation('test.big', () => {}), 'x'.repeat(20_000)) })
    }).catch((e: unknown) => e)
    expect(((big as TransactionError).cause as Error).name).toBe('TxDefinitionError')
    expect(await h.journalKeys()).toEqual([])
  })
})
