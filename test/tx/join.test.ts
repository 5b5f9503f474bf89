import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { raceSignal } from 'race-signal'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TransactionError, type Compensation, type RequestContext, type TxProgressEvent } from '../../src/tx/index.js'
import { exists, gate, openHarness, sleep, type Harness } from './helpers.js'
import { waitFor } from '../helpers/wait.js'

interface Counter {
  executions: number
  signal?: AbortSignal
  /** Executions that have written their file and now wait to be released. */
  waiting: number
}

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

  /**
   * A fake PACS fetch of one series: writes a file (compensated), then waits
   * for `release` or its abort (already aborted counts: a loaded machine may
   * take longer to write than the callers take to leave).
   */
  function pacsFetch (release: Promise<void>, counter: Counter, undo: Compensation<{ path: string }> = removeFile) {
    return async (r: RequestContext) => {
      counter.executions++
      counter.signal = r.signal
      const path = join(h.dir, 'series.tmp')
      await r.compensate(undo, { path })
      await writeFile(path, 'slices')
      r.progress({ done: 1, total: 2, bytes: 6 })
      counter.waiting++
      try {
        await raceSignal(release, r.signal)
      } finally {
        counter.waiting--
      }
      r.progress({ done: 2, total: 2, bytes: 12 })
      return path
    }
  }

  /** Until the execution waits for its release and `callers` callers are registered with it. */
  async function allWaiting (counter: Counter, callers: number, joinedBefore = 0): Promise<void> {
    await waitFor(() => counter.waiting === 1 && h.engine.stats().joined === joinedBefore + callers - 1, 20_000, 'the callers to join')
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
    const counter: Counter = { executions: 0, waiting: 0 }
    const fetch = pacsFetch(release.promise, counter)
    const events: TxProgressEvent[][] = Array.from({ length: 10 }, () => [])
    const runs = events.map(async (ev, i) => await caller(`get${i}`, fetch, { events: ev }))
    await allWaiting(counter, 10)
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
    const counter: Counter = { executions: 0, waiting: 0 }
    const fetch = pacsFetch(release.promise, counter)
    const quitter = new AbortController()
    const runs = [caller('a', fetch), caller('b', fetch, { signal: quitter.signal }), caller('c', fetch)]
    await allWaiting(counter, 3)
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
    const counter: Counter = { executions: 0, waiting: 0 }
    const fetch = pacsFetch(new Promise(() => {}), counter)
    const controllers = [new AbortController(), new AbortController(), new AbortController()]
    const runs = controllers.map(async (c, i) => await caller(`c${i}`, fetch, { signal: c.signal }).catch((e: unknown) => e))
    await allWaiting(counter, 3)
    controllers[0]?.abort()
    controllers[1]?.abort()
    await sleep(10)
    expect(counter.signal?.aborted).toBe(false)
    expect(counter.waiting).toBe(1)
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

  /**
   * A caller starts an execution and leaves; its undo starts and is held until `open()`.
   * Resolves once the undo has started, with the quitter's error and the execution counter.
   */
  async function abandonedMidUndo (): Promise<{ counter: Counter, quit: unknown, open: () => void }> {
    const undoing = gate()
    let undoStarted = false
    const heldRemove = h.engine.compensation('fs.rm.held', async ({ path }: { path: string }) => {
      undoStarted = true
      await undoing.promise
      removals++
      await rm(path, { force: true })
    })
    const counter: Counter = { executions: 0, waiting: 0 }
    const quitter = new AbortController()
    const abandoned = caller('quitter', pacsFetch(new Promise(() => {}), counter, heldRemove), { signal: quitter.signal })
      .catch((e: unknown) => e)
    await allWaiting(counter, 1)
    quitter.abort()
    const quit = await abandoned
    await waitFor(() => undoStarted, 20_000, 'the abandoned execution to start its undo')
    return { counter, quit, open: () => { undoing.open() } }
  }

  it('a caller arriving while an abandoned execution is undone waits for the undo, then gets a fresh execution', async () => {
    const { counter, quit, open } = await abandonedMidUndo()
    expect((quit as Error).name).toBe('AbortError')
    // Arrives mid-undo: neither failed with the quitter's abort nor run beside the undo.
    const late = caller('late', pacsFetch(Promise.resolve(), counter))
    await sleep(20)
    expect(counter.executions).toBe(1)
    open()
    expect(await late).toBe(join(h.dir, 'series.tmp'))
    expect(counter.executions).toBe(2)
    expect(removals).toBe(1)
    expect(await exists(join(h.dir, 'series.tmp'))).toBe(true)
    expect(h.engine.stats().joined).toBe(0)
  })

  it('a caller whose signal fires while it waits for an undo leaves at once', async () => {
    const { counter, open } = await abandonedMidUndo()
    const impatient = new AbortController()
    const late = caller('impatient', pacsFetch(Promise.resolve(), counter), { signal: impatient.signal }).catch((e: unknown) => e)
    await sleep(20)
    impatient.abort()
    expect(((await late) as Error).name).toBe('AbortError')
    expect(counter.executions).toBe(1)
    open()
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
      const counter: Counter = { executions: 0, waiting: 0 }
      const fetch = pacsFetch(release.promise, counter)
      const joinedBefore = h.engine.stats().joined
      const runs = ['keeper', 'x', 'y'].map(async (name) => await caller(name, fetch, {
        after: () => { if (fail(name)) throw new Error(`${name} failed after the fetch`) }
      }).catch((e: unknown) => e))
      await allWaiting(counter, 3, joinedBefore)
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
