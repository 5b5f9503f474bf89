/**
 * The transaction engine: admission control, service pools, request joining,
 * the compensation registry, the journal and its recovery.
 */
import { setMaxListeners } from 'node:events'
import { Admission } from './admission.js'
import { CompensationRegistry, checkKind, encodeData } from './compensations.js'
import {
  DEFAULT_MAX_CONCURRENT_QUERIES, DEFAULT_MAX_QUEUED_QUERIES, DEFAULT_POOL_CONCURRENCY, JOURNAL_VERSION,
  LOG_COMPONENT, MAX_RESUME_INPUT_BYTES
} from './constants.js'
import { checkName } from './context.js'
import { BusyError, EngineClosedError, TransactionAbortError, TransactionError, TxDefinitionError } from './errors.js'
import { Joiner } from './join.js'
import { Journal, newTxId, type TxHeader, type UndoRecord, type UnfinishedTx } from './journal.js'
import type { Runtime } from './owner.js'
import { ServicePools } from './pools.js'
import { recoverJournal } from './recover.js'
import { Scope } from './scope.js'
import { Transaction } from './transaction.js'
import type {
  Compensation, CompensationHandler, CompensationOptions, QueryBody, QueryContext, RecoveryReport, RunOptions,
  TxEngineInit, TxStats
} from './types.js'

/** A query that recovery re-runs after a crash instead of rolling it back. */
export interface ResumableQuery<I, O> {
  readonly kind: string
  run: (input: I, options?: RunOptions) => Promise<O>
}

interface Resumable {
  body: (input: unknown, query: QueryContext) => Promise<unknown>
  parse?: (input: unknown) => unknown
}

/** An error naming the query itself: it failed before or outside any step. */
function queryError (header: TxHeader, cause: unknown, aborted: boolean, rollbackErrors: unknown[]): TransactionError {
  const step = { kind: 'query' as const, name: header.name }
  const init = { txId: header.id, query: header.name, step, path: [header.name], cause, rollbackErrors }
  return aborted ? new TransactionAbortError(init) : new TransactionError(init)
}

export class TxEngine {
  private readonly runtime: Runtime
  private readonly admission: Admission
  private readonly closing = new AbortController()
  private readonly resumables = new Map<string, Resumable>()
  private readonly submissions = new Set<Promise<unknown>>()
  private readonly counts = { completed: 0, failed: 0, aborted: 0 }
  private closed = false

  constructor (init: TxEngineInit) {
    const log = init.logger.forComponent(LOG_COMPONENT)
    setMaxListeners(Infinity, this.closing.signal)
    const joiner = new Joiner(() => this.runtime)
    this.runtime = {
      journal: new Journal(init.db, init.syncJournal ?? true),
      registry: new CompensationRegistry(),
      pools: new ServicePools(init.poolConcurrency ?? {}, init.defaultPoolConcurrency ?? DEFAULT_POOL_CONCURRENCY),
      joiner,
      clock: init.clock ?? { now: Date.now },
      log,
      closing: this.closing.signal,
      active: new Set()
    }
    this.admission = new Admission(
      init.maxConcurrentQueries ?? DEFAULT_MAX_CONCURRENT_QUERIES, init.maxQueuedQueries ?? DEFAULT_MAX_QUEUED_QUERIES)
  }

  /** Registers a compensation kind; its handler must be idempotent (see `Compensation`). */
  compensation<T>(kind: string, handler: CompensationHandler<T>, options?: CompensationOptions<T>): Compensation<T> {
    return this.runtime.registry.register(kind, handler, options)
  }

  /**
   * Registers a query body that recovery may re-run with its journaled input
   * (it must be idempotent: steps done before the crash run again, and the
   * crashed run's compensations are taken over by the new one).
   */
  resumable<I, O>(kind: string, body: (input: I, query: QueryContext) => Promise<O>,
    options: { parse?: (input: unknown) => I } = {}): ResumableQuery<I, O> {
    checkKind(kind, 'resumable')
    if (this.resumables.has(kind)) throw new TxDefinitionError(`resumable kind "${kind}" registered twice`)
    const entry: Resumable = { body: body as Resumable['body'] }
    if (options.parse !== undefined) entry.parse = options.parse
    this.resumables.set(kind, entry)
    return {
      kind,
      run: async (input, runOptions = {}) => {
        const json = JSON.parse(encodeData(input, MAX_RESUME_INPUT_BYTES)) as unknown
        return await this.submit(kind, async (q) => await body(json as I, q), runOptions, { resume: { kind, input: json } }) as O
      }
    }
  }

  /** Runs a query as one transaction; throws `BusyError`, or one `TransactionError` after rolling back. */
  async run<T>(name: string, body: QueryBody<T>, options: RunOptions = {}): Promise<T> {
    return await this.submit(name, body, options, {})
  }

  private async submit<T>(name: string, body: QueryBody<T>, options: RunOptions,
    extra: { resume?: TxHeader['resume'], takeOver?: { oldId: string, records: readonly UndoRecord[] } }): Promise<T> {
    if (this.closed) throw new EngineClosedError()
    checkName(name, 'query')
    const { clock, active } = this.runtime
    const header: TxHeader = { v: JOURNAL_VERSION, id: newTxId(clock.now()), name, startedAt: clock.now() }
    if (extra.resume !== undefined) header.resume = extra.resume
    const scope = new Scope([options.signal, this.closing.signal])
    const tx = new Transaction(this.runtime, header, scope.signal, options.onProgress)
    const submission = this.admission.run(scope.signal, (position) => { tx.emit({ type: 'tx:queued', position }) }, async () => {
      active.add(header.id)
      try {
        if (extra.resume !== undefined) {
          try {
            await tx.begin(extra.takeOver)
          } catch (err) {
            // A crashed transaction being taken over stays in the journal: report it as not rolled back.
            throw queryError(header, err, false, extra.takeOver === undefined ? [] : [err])
          }
        }
        return await tx.execute(body)
      } finally {
        active.delete(header.id)
      }
    })
    this.submissions.add(submission)
    try {
      const value = await submission
      this.counts.completed++
      return value
    } catch (err) {
      if (err instanceof BusyError) throw err
      this.counts.failed++
      // Not a TransactionError: aborted while queued, nothing ran.
      const error = err instanceof TransactionError
        ? err
        : queryError(header, scope.signal.aborted ? scope.signal.reason : err, scope.signal.aborted, [])
      if (error instanceof TransactionAbortError) this.counts.aborted++
      throw error
    } finally {
      this.submissions.delete(submission)
      scope.dispose()
    }
  }

  stats (): TxStats {
    return {
      running: this.admission.running,
      queued: this.admission.queued,
      rejected: this.admission.rejected,
      ...this.counts,
      joined: this.runtime.joiner.joined,
      pools: this.runtime.pools.stats()
    }
  }

  /** Rolls back (or resumes) every transaction a previous run left unfinished. Call at start-up. */
  async recover (): Promise<RecoveryReport> {
    const { journal, registry, log, active } = this.runtime
    return await recoverJournal({
      journal, registry, log, active, resume: (tx, records) => this.resume(tx, records)
    })
  }

  private resume (tx: UnfinishedTx, records: readonly UndoRecord[]): Promise<boolean> | undefined {
    const resume = tx.header?.resume
    const entry = resume === undefined ? undefined : this.resumables.get(resume.kind)
    if (resume === undefined || entry === undefined) return undefined
    let input: unknown
    try {
      input = entry.parse === undefined ? resume.input : entry.parse(resume.input)
    } catch {
      this.runtime.log.error('tx %s: resumable input refused, rolling back', tx.id)
      return undefined
    }
    return (async () => {
      try {
        await this.submit(resume.kind, async (q) => await entry.body(input, q), {},
          { resume: { kind: resume.kind, input: resume.input }, takeOver: { oldId: tx.id, records } })
        return true
      } catch (err) {
        if (err instanceof TransactionError && err.rolledBack) return false
        throw err
      }
    })()
  }

  /** Aborts every running and queued query, waits for their rollbacks; later calls get `EngineClosedError`. */
  async close (): Promise<void> {
    this.closed = true
    this.closing.abort(new EngineClosedError())
    while (this.submissions.size > 0) await Promise.allSettled([...this.submissions])
    await this.runtime.joiner.settled()
  }
}
