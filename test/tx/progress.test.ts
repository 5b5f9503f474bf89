import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TxProgressEvent } from '../../src/tx/index.js'
import { openHarness, sleep, type Harness } from './helpers.js'
import { waitFor } from '../helpers/wait.js'

describe('tx engine: progress events and signals', () => {
  let h: Harness
  beforeEach(async () => { h = await openHarness() })
  afterEach(async () => { await h.close() })

  it('reports start, progress (done/total/bytes) and end of every step, then the commit', async () => {
    const events: TxProgressEvent[] = []
    await h.engine.run('getImage', async (q) => {
      await q.tool('access-check', () => true)
      await q.task('fetch', { service: 'pacs:A' }, async (t) => {
        t.progress({ done: 0, total: 2 })
        for (const n of [1, 2]) {
          await t.request(`slice ${n}`, async (r) => { r.progress({ done: 1, total: 1, bytes: 1000 * n }) })
          t.progress({ done: n, total: 2, bytes: 1000 * n })
        }
      })
    }, { onProgress: (e) => { events.push(e) } })

    const txId = events[0]?.txId
    expect(txId).toMatch(/^[0-9a-z]{10}-[0-9a-f]{12}$/)
    expect(events.every((e) => e.txId === txId && e.query === 'getImage')).toBe(true)
    const summary = events.map((e) => {
      switch (e.type) {
        case 'step:start': return `start ${e.path.join('/')}`
        case 'step:progress': return `progress ${e.step.name} ${e.done}/${e.total ?? '?'} ${e.bytes ?? '-'}`
        case 'step:end': return `end ${e.step.kind}:${e.step.name} ${e.ok ? 'ok' : 'failed'}`
        default: return e.type
      }
    })
    expect(summary).toEqual([
      'tx:start',
      'start getImage/access-check', 'end tool:access-check ok',
      'start getImage/fetch', 'progress fetch 0/2 -',
      'start getImage/fetch/slice 1', 'progress slice 1 1/1 1000', 'end request:slice 1 ok', 'progress fetch 1/2 1000',
      'start getImage/fetch/slice 2', 'progress slice 2 1/1 2000', 'end request:slice 2 ok', 'progress fetch 2/2 2000',
      'end task:fetch ok',
      'tx:commit'
    ])
    const ends = events.filter((e) => e.type === 'step:end')
    expect(ends.every((e) => e.type === 'step:end' && e.ms >= 0)).toBe(true)
  })

  it('reports failed steps and the rollback; a throwing listener changes nothing', async () => {
    const types: string[] = []
    const err = await h.engine.run('q', async (q) => {
      await q.tool('bad', () => { throw new Error('no') })
    }, {
      onProgress: (e) => {
        types.push(e.type === 'step:end' ? `step:end ${String(e.ok)}` : e.type)
        throw new Error('listener bug')
      }
    }).catch((e: unknown) => e) as Error
    expect(err.name).toBe('TransactionError')
    expect(types).toEqual(['tx:start', 'step:start', 'step:end false', 'tx:rollback'])
  })

  it('hands every step a signal that combines the caller, siblings and its own timeout', async () => {
    const controller = new AbortController()
    const seen: boolean[] = []
    const run = h.engine.run('q', async (q) => await q.task('t', { service: 'peer:x' }, async (t) =>
      await t.request('r', async (r) => await r.tool('inner', async (s) => {
        seen.push(s.signal.aborted, r.signal.aborted, t.signal.aborted, q.signal.aborted)
        await sleep(10_000, s.signal)
      }))), { signal: controller.signal })
    await waitFor(() => seen.length === 4, 20_000, 'the inner tool to start')
    controller.abort()
    await expect(run).rejects.toMatchObject({ name: 'AbortError', step: { kind: 'tool', name: 'inner' } })
    expect(seen).toEqual([false, false, false, false])

    const timedOut = await h.engine.run('slow', async (q) => {
      await q.request('c-find', { service: 'pacs:B', timeoutMs: 20 }, async (r) => { await sleep(10_000, r.signal) })
    }).catch((e: unknown) => e) as Error & { step: unknown }
    expect(timedOut.name).toBe('TransactionError')
    expect(timedOut.step).toEqual({ kind: 'request', name: 'c-find' })
    expect((timedOut.cause as Error).name).toBe('TimeoutError')
  })
})
