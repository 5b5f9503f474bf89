import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  StepError, TransactionAbortError, TransactionError, type Compensation, type StepContext
} from '../../src/tx/index.js'
import { exists, gate, openHarness, sleep, type Harness } from './helpers.js'

describe('tx engine: atomic outcome', () => {
  let h: Harness
  let undone: string[]
  let removeFile: Compensation<{ path: string, label: string }>
  let scratch: string

  /** Creates a temp file the way real steps must: compensation journaled first. */
  async function tempFile (s: StepContext, label: string): Promise<string> {
    const path = join(scratch, `${label}.tmp`)
    await s.compensate(removeFile, { path, label })
    await writeFile(path, label)
    return path
  }

  beforeEach(async () => {
    h = await openHarness()
    undone = []
    scratch = join(h.dir, 'scratch')
    await (await import('node:fs/promises')).mkdir(scratch)
    removeFile = h.engine.compensation('fs.rm', async ({ path, label }) => {
      undone.push(label)
      await rm(path, { force: true })
    })
  })
  afterEach(async () => { await h.close() })

  it('a late failure undoes every step in reverse and throws one TransactionError naming the step', async () => {
    const boom = new Error('signature key unavailable')
    const err = await h.engine.run('getImage', async (q) => {
      await q.tool('reserve', async (s) => await tempFile(s, 'reserve'))
      await q.task('fetch', { service: 'pacs:A' }, async (t) => {
        for (const n of [1, 2, 3]) await t.request(`slice ${n}`, async (r) => await tempFile(r, `slice${n}`))
      })
      await q.tool('assemble', async (s) => await tempFile(s, 'volume'))
      await q.tool('sign', () => { throw boom })
    }).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(TransactionError)
    const txErr = err as TransactionError
    expect(txErr.name).toBe('TransactionError')
    expect(txErr.step).toEqual({ kind: 'tool', name: 'sign' })
    expect(txErr.path).toEqual(['getImage', 'sign'])
    expect(txErr.query).toBe('getImage')
    expect(txErr.cause).toBe(boom)
    expect(txErr.rolledBack).toBe(true)
    expect(txErr.message).toContain('tool "sign"')
    expect(undone).toEqual(['volume', 'slice3', 'slice2', 'slice1', 'reserve'])
    expect(await readdir(scratch)).toEqual([])
    expect(await h.journalKeys()).toEqual([])
    expect(h.engine.stats()).toMatchObject({ completed: 0, failed: 1, aborted: 0 })
  })

  it('names the innermost failed step: a request inside a task', async () => {
    const err = await h.engine.run('q', async (q) => {
      await q.task('fetch', { service: 'pacs:A' }, async (t) => {
        await t.request('ok', async (r) => await tempFile(r, 'ok'))
        await t.request('c-get 2', async () => { throw new RangeError('association rejected') })
      })
    }).catch((e: unknown) => e) as TransactionError
    expect(err.step).toEqual({ kind: 'request', name: 'c-get 2' })
    expect(err.path).toEqual(['q', 'fetch', 'c-get 2'])
    expect((err.cause as Error).name).toBe('RangeError')
    expect(undone).toEqual(['ok'])
  })

  it('parallel branches fail fast: siblings are aborted, awaited and undone before the error', async () => {
    let siblingSawAbort = false
    const err = await h.engine.run('par', async (q) => await q.parallel([
      async (p) => await p.tool('slow', async (s) => {
        await tempFile(s, 'slow')
        try {
          await sleep(5_000, s.signal)
        } catch (e) {
          siblingSawAbort = s.signal.aborted
          await sleep(20) // still running when the failure is known: must be awaited
          throw e
        }
      }),
      async (p) => await p.tool('fails', async () => {
        await sleep(15)
        throw new Error('disk full')
      })
    ])).catch((e: unknown) => e) as TransactionError
    expect(err.name).toBe('TransactionError')
    expect(err.step.name).toBe('fails')
    expect(siblingSawAbort).toBe(true)
    expect(undone).toEqual(['slow'])
    expect(await readdir(scratch)).toEqual([])
  })

  it('a body may catch a StepError and fall back; the failed attempt leaves nothing', async () => {
    const result = await h.engine.run('fallback', async (q) => {
      try {
        await q.request('from master', { service: 'peer:master' }, async (r) => {
          await tempFile(r, 'partial')
          throw new Error('peer gone')
        })
      } catch (e) {
        expect(e).toBeInstanceOf(StepError)
        expect((e as StepError).step.name).toBe('from master')
      }
      return await q.request('from replica', { service: 'peer:replica' }, async (r) => await tempFile(r, 'complete'))
    })
    expect(result).toBe(join(scratch, 'complete.tmp'))
    expect(undone).toEqual(['partial'])
    expect(await readdir(scratch)).toEqual(['complete.tmp'])
    expect(await h.journalKeys()).toEqual([])
  })

  it('an abort mid-way rolls back the same way and throws an AbortError-typed TransactionError', async () => {
    const controller = new AbortController()
    const inFetch = gate()
    const reason = new Error('user cancelled')
    const run = h.engine.run('getImage', async (q) => {
      await q.tool('reserve', async (s) => await tempFile(s, 'reserve'))
      await q.task('fetch', { service: 'pacs:A' }, async (t) => {
        await t.request('slice 1', async (r) => await tempFile(r, 'slice1'))
        await t.request('slice 2', async (r) => {
          await tempFile(r, 'slice2')
          inFetch.open()
          await sleep(10_000, r.signal)
        })
      })
      await q.tool('never', async (s) => await tempFile(s, 'never'))
    }, { signal: controller.signal })
    await inFetch.promise
    controller.abort(reason)
    const err = await run.catch((e: unknown) => e) as TransactionAbortError
    expect(err).toBeInstanceOf(TransactionAbortError)
    expect(err).toBeInstanceOf(TransactionError)
    expect(err.name).toBe('AbortError')
    expect(err.step).toEqual({ kind: 'request', name: 'slice 2' })
    expect(err.cause).toBe(reason)
    expect(undone).toEqual(['slice2', 'slice1', 'reserve'])
    expect(await readdir(scratch)).toEqual([])
    expect(await h.journalKeys()).toEqual([])
    expect(h.engine.stats()).toMatchObject({ failed: 1, aborted: 1 })
  })

  it('never commits an aborted transaction, even if the body ignores the signal', async () => {
    const controller = new AbortController()
    const err = await h.engine.run('deaf', async (q) => {
      await q.tool('write', async (s) => await tempFile(s, 'deaf'))
      controller.abort()
      await sleep(5)
      return 'done anyway'
    }, { signal: controller.signal }).catch((e: unknown) => e) as TransactionError
    expect(err.name).toBe('AbortError')
    expect(err.step).toEqual({ kind: 'query', name: 'deaf' })
    expect(await exists(join(scratch, 'deaf.tmp'))).toBe(false)
  })

  it('a failing compensation is reported and left in the journal; recover() finishes it later', async () => {
    let diskBack = false
    const flaky = h.engine.compensation<{ label: string }>('test.flaky', ({ label }) => {
      if (!diskBack) throw new Error('EIO')
      undone.push(label)
    })
    const err = await h.engine.run('q', async (q) => {
      await q.tool('a', async (s) => await tempFile(s, 'a'))
      await q.tool('b', async (s) => { await s.compensate(flaky, { label: 'flaky' }) })
      await q.tool('c', () => { throw new Error('late') })
    }).catch((e: unknown) => e) as TransactionError
    expect(err.rolledBack).toBe(false)
    expect(err.rollbackErrors.map((e) => (e as Error).message)).toEqual(['EIO'])
    expect(undone).toEqual(['a'])
    expect((await h.journalKeys()).length).toBeGreaterThan(0)
    diskBack = true
    const report = await h.engine.recover()
    expect(report).toEqual({ rolledBack: [err.txId], resumed: [], failed: [] })
    expect(undone).toEqual(['a', 'flaky'])
    expect(await h.journalKeys()).toEqual([])
  })

  it('in-memory undos run too, in order with the journaled ones', async () => {
    const registry = new Map<string, string>()
    await h.engine.run('q', async (q) => {
      await q.tool('register', (s) => {
        registry.set('lfn-1', 'v1')
        s.onRollback(() => { undone.push('unregister'); registry.delete('lfn-1') })
      })
      await q.tool('file', async (s) => await tempFile(s, 'f'))
      throw new Error('body failed')
    }).catch((e: unknown) => {
      expect((e as TransactionError).step).toEqual({ kind: 'query', name: 'q' })
    })
    expect(undone).toEqual(['f', 'unregister'])
    expect(registry.size).toBe(0)
  })
})
