/**
 * Request joining: identical requests in flight (same service and join key)
 * share one execution — ten callers asking for one series cause one PACS
 * fetch. A caller that aborts leaves; the execution is aborted only when its
 * last caller has left.
 *
 * The execution journals its own compensations (as a transaction named
 * `join:<request>`), so a crash while it runs is rolled back like any other.
 * On success its callers each journal copies of them, and in memory the
 * effects are undone only if none of the callers commits (`SharedUndo`).
 * After a crash, recovery undoes the copies of unfinished callers: joined
 * requests suit effects that are safe to undo even when another caller kept
 * them (a temporary file already consumed, a cache entry).
 *
 * One execution per key at a time, its rollback or hand-over included: a
 * caller arriving while an execution is being undone (every caller left) or
 * settled waits for it to finish, then starts or joins a fresh one, so it is
 * neither failed with another caller's abort nor run beside an undo of the
 * same effects.
 */
import { raceSignal } from 'race-signal'
import { JOURNAL_VERSION } from './constants.js'
import { SharedUndo, UndoLog } from './undo-log.js'
import { newTxId, type UndoRecord } from './journal.js'
import type { OwnerEvent, Runtime, StepOwner } from './owner.js'
import { Scope } from './scope.js'
import type { Progress } from './types.js'

export interface JoinCaller {
  signal: AbortSignal
  progress: (progress: Progress) => void
  /** Journals the execution's compensations under the caller's transaction. */
  adopt: (records: readonly UndoRecord[], shared: SharedUndo) => Promise<void>
}

interface Waiter {
  caller: JoinCaller
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
  detach: () => void
}

interface Shared {
  controller: AbortController
  waiters: Set<Waiter>
  /** Once set, callers can no longer leave or join: the result is being handed over or undone. */
  settling: boolean
  /** Resolves once the execution has finished, its hand-over or rollback included. */
  finished: Promise<void>
  finish: () => void
}

export type JoinedRun<T> = (owner: StepOwner, scope: Scope) => Promise<T>

export class Joiner {
  private readonly runtime: () => Runtime
  private readonly inFlight = new Map<string, Shared>()
  private readonly executions = new Set<Promise<void>>()
  private _joined = 0

  constructor (runtime: () => Runtime) {
    this.runtime = runtime
  }

  /** Callers served by an execution another caller started. */
  get joined (): number { return this._joined }

  get executing (): number { return this.inFlight.size }

  /** Resolves once every execution (including its rollback or hand-over) has finished. */
  async settled (): Promise<void> {
    while (this.executions.size > 0) await Promise.allSettled([...this.executions])
  }

  async join<T>(key: string, name: string, caller: JoinCaller, run: JoinedRun<T>): Promise<T> {
    let shared = this.inFlight.get(key)
    while (shared !== undefined && (shared.settling || shared.controller.signal.aborted)) {
      await raceSignal(shared.finished, caller.signal)
      shared = this.inFlight.get(key)
    }
    caller.signal.throwIfAborted()
    if (shared === undefined) {
      let finish!: () => void
      const finished = new Promise<void>((resolve) => { finish = resolve })
      shared = { controller: new AbortController(), waiters: new Set(), settling: false, finished, finish }
      this.inFlight.set(key, shared)
      const started = shared
      // Started after this caller is registered below (the promise executor runs synchronously).
      queueMicrotask(() => {
        const execution = this.execute(name, started, run).catch(() => {}).finally(() => {
          this.inFlight.delete(key)
          started.finish()
        })
        this.executions.add(execution)
        execution.finally(() => { this.executions.delete(execution) }).catch(() => {})
      })
    } else {
      this._joined++
    }
    const target = shared
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (target.settling) return
        target.waiters.delete(waiter)
        waiter.detach()
        reject(caller.signal.reason)
        if (target.waiters.size === 0) target.controller.abort(caller.signal.reason)
      }
      const waiter: Waiter = {
        caller,
        resolve: resolve as (value: unknown) => void,
        reject,
        detach: () => { caller.signal.removeEventListener('abort', onAbort) }
      }
      caller.signal.addEventListener('abort', onAbort, { once: true })
      target.waiters.add(waiter)
    })
  }

  private async execute<T>(name: string, shared: Shared, run: JoinedRun<T>): Promise<void> {
    const runtime = this.runtime()
    const { clock, journal, registry, log, active } = runtime
    const header = { v: JOURNAL_VERSION, id: newTxId(clock.now()), name: `join:${name}`, startedAt: clock.now() }
    const undo = new UndoLog(header, journal, registry, log)
    const scope = new Scope([shared.controller.signal, runtime.closing])
    const owner: StepOwner = {
      id: header.id,
      query: header.name,
      undo,
      runtime,
      emit: (event: OwnerEvent) => {
        if (event.type !== 'step:progress') return
        for (const w of shared.waiters) w.caller.progress(event)
      }
    }
    active.add(header.id)
    let outcome: { ok: true, value: T } | { ok: false, error: unknown }
    try {
      outcome = { ok: true, value: await run(owner, scope) }
      await scope.settle()
    } catch (err) {
      outcome = { ok: false, error: err }
      await scope.settle()
    }
    shared.settling = true
    const holders = [...shared.waiters]
    for (const w of holders) w.detach()
    try {
      if (outcome.ok && holders.length > 0) {
        await this.handOver(undo, holders, outcome.value)
      } else {
        const errors = await undo.rollback().catch((err: unknown) => [err])
        if (errors.length > 0) log.error('tx %s: joined request rollback incomplete', header.id)
        const reason = outcome.ok ? shared.controller.signal.reason : outcome.error
        for (const w of holders) w.reject(reason)
      }
    } finally {
      scope.dispose()
      active.delete(header.id)
    }
  }

  /** Every caller journals the effects, then the execution's own journal entry goes, then callers resume. */
  private async handOver (undo: UndoLog, holders: Waiter[], value: unknown): Promise<void> {
    const shared = new SharedUndo(undo, holders.length)
    const records = undo.durableRecords()
    const adopted = await Promise.allSettled(holders.map(async (w) => { await w.caller.adopt(records, shared) }))
    // Left behind on failure, the entry is merely rolled back again by recovery (handlers are idempotent).
    await undo.forget().catch((err: unknown) => { this.runtime().log.error('joined request journal: %s', (err as Error).name) })
    holders.forEach((w, i) => {
      const result = adopted[i]
      if (result?.status === 'fulfilled') {
        w.resolve(value)
        return
      }
      w.reject(result?.reason)
      shared.release(false).catch(() => {})
    })
  }
}
