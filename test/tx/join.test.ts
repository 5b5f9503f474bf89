import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TransactionError, type Compensation, type RequestContext, type TxProgressEvent } from '../../src/tx/index.js'
import { exists, gate, openHarness, sleep, type Harness } from './helpers.js'

describe('tx engine: joining identical in-flight requests', () => {
  let h: Harness
  let removeFile: Compensation<{ path: string }>
  let removals: number

  beforeEach(async () => {
    h = await openHarness({ maxConcurrentQueries: 20 })
    removals = 0
    removeFile = h.engine.compensation('fs.rm', async ({ path }) => {
      removals++
      await rm(path, { force: true })
    })
  })
  afterEach(async () => { await h.close() })

  /** A fake PACS fetch of one series: writes a file (compensated), waits for `release`. */
  function pacsFetch (release: Promise<void>, counter: { executions: number, signal?: AbortSignal }) {
    return async (r: RequestContext) => {
      counter.executions++
      counter.signal = r.signal
      const path = join(h.dir, 'series.tmp')
      await r.compensate(removeFile, { path })
      await writeFile(path, 'slices')
      r.progress({ done: 1, total: 2, bytes: 6 })
      await Promise.race([release, new Promise((_resolve, reject) => {
        r.signal.addEventListener('abort', () => { reject(r.signal.reason) }, { once: true })
      })])
      r.progress({ done: 2, total: 2, bytes: 12 })
      return path
    }
  }

  function caller (name: string, fetch: ReturnType<typeof pacsFetch>,
    options: { signal?: AbortSignal, after?: () => void, events?: TxProgressEvent[] } = {}): Promise<string> {
    return h.engine.run(name, async (q) => await q.task('fetch', { service: 'pacs:HOSPITAL_A' }, async (t) => {
      const path = await t.request('c-get series', fetch, { join: 'series-1.2.3' })
      options.after?.()
      return path
    }), {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.events === undefined ? {} : { onProgress: (e) => options.events?.push(e) })
    })
  }

  it('ten callers, one execution: everyone gets the result and the progress', async () => {
    const release = gate()
    const counter = { executions: 0 }
    const fetch = pacsFetch(release.promise, counter)
    const events: TxProgressEvent[][] = Array.from({ length: 10 }, () => [])
    const runs = events.map(async (ev, i) => await caller(`get${i}`, fetch, { events: ev }))
    await sleep(20)
    release.open()
    const results = await Promise.all(runs)
    expect(new Set(results)).toEqual(new Set([join(h.dir, 'series.tmp')]))
    expect(counter.executions).toBe(1)
    expect(h.engine.stats().joined).toBe(9)
    expect(await exists(join(h.dir, 'series.tmp'))).toBe(true)
    for (const ev of events) {
      const progress = ev.filter((e) => e.type === 'step:progress')
      expect(progress.map((e) => e.type === 'step:progress' && [e.step.name, e.done, e.total, e.bytes]))
        .toEqual([['c-get series', 1, 2, 6], ['c-get series', 2, 2, 12]])
    }
    expect(await h.journalKeys()).toEqual([])
    // Finished executions are not a cache: the same key runs again.
    await caller('again', pacsFetch(Promise.resolve(), counter))
    expect(counter.executions).toBe(2)
  })

  it('a caller that aborts leaves; the others are unaffected', async () => {
    const release = gate()
    const counter: { executions: number, signal?: AbortSignal } = { executions: 0 }
    const fetch = pacsFetch(release.promise, counter)
    const quitter = new AbortController()
    const runs = [caller('a', fetch), caller('b', fetch, { signal: quitter.signal }), caller('c', fetch)]
    await sleep(20)
    quitter.abort()
    const quit = await runs[1]?.catch((e: unknown) => e) as TransactionError
    expect(quit.name).toBe('AbortError')
    expect(quit.step).toEqual({ kind: 'request', name: 'c-get series' })
    expect(counter.signal?.aborted).toBe(false)
    release.open()
    expect(await runs[0]).toBe(join(h.dir, 'series.tmp'))
    expect(await runs[2]).toBe(join(h.dir, 'series.tmp'))
    expect(counter.executions).toBe(1)
    expect(removals).toBe(0)
  })

  it('the execution is aborted and undone only when every caller has aborted', async () => {
    const counter: { executions: number, signal?: AbortSignal } = { executions: 0 }
    const fetch = pacsFetch(new Promise(() => {}), counter)
    const controllers = [new AbortController(), new AbortController(), new AbortController()]
    const runs = controllers.map(async (c, i) => await caller(`c${i}`, fetch, { signal: c.signal }).catch((e: unknown) => e))
    await sleep(20)
    controllers[0]?.abort()
    controllers[1]?.abort()
    await sleep(10)
    expect(counter.signal?.aborted).toBe(false)
    controllers[2]?.abort()
    const errors = await Promise.all(runs)
    expect(errors.map((e) => (e as Error).name)).toEqual(['AbortError', 'AbortError', 'AbortError'])
    expect(counter.signal?.aborted).toBe(true)
    // close() also waits for joined executions to finish their rollback.
    await h.engine.close()
    expect(removals).toBe(1)
    expect(await exists(join(h.dir, 'series.tmp'))).toBe(false)
    expect(await h.journalKeys()).toEqual([])
  })

  it('a failed execution fails every caller with a TransactionError naming the request', async () => {
    const runs = [0, 1, 2].map(async (i) => await caller(`f${i}`, async (r) => {
      await r.compensate(removeFile, { path: join(h.dir, 'partial.tmp') })
      await writeFile(join(h.dir, 'partial.tmp'), 'x')
      await sleep(15)
      throw new Error('C-GET failed: 0xA701')
    }).catch((e: unknown) => e))
    const errors = await Promise.all(runs) as TransactionError[]
    for (const err of errors) {
      expect(err).toBeInstanceOf(TransactionError)
      expect(err.step).toEqual({ kind: 'request', name: 'c-get series' })
      expect((err.cause as Error).message).toBe('C-GET failed: 0xA701')
    }
    expect(removals).toBe(1)
    expect(await exists(join(h.dir, 'partial.tmp'))).toBe(false)
  })

  it('shared effects are kept if any caller commits, undone once if all roll back', async () => {
    const path = join(h.dir, 'series.tmp')
    let fail = (name: string): boolean => name !== 'keeper'
    const runAll = async (): Promise<unknown[]> => {
      const release = gate()
      const fetch = pacsFetch(release.promise, { executions: 0 })
      const runs = ['keeper', 'x', 'y'].map(async (name) => await caller(name, fetch, {
        after: () => { if (fail(name)) throw new Error(`${name} failed after the fetch`) }
      }).catch((e: unknown) => e))
      await sleep(15)
      release.open()
      return await Promise.all(runs)
    }
    const mixed = await runAll()
    expect(mixed[0]).toBe(path)
    expect(removals).toBe(0)
    expect(await exists(path)).toBe(true)

    fail = () => true
    const failed = await runAll()
    expect(failed.every((e) => e instanceof TransactionError)).toBe(true)
    expect(removals).toBe(1)
    expect(await exists(path)).toBe(false)
    expect(await h.journalKeys()).toEqual([])
  })
})
