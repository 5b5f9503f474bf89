/**
 * One running transaction (a query, QUD): runs its body, then commits (the
 * journal forgets it) or rolls back every compensation in reverse and throws
 * one `TransactionError`.
 */
import { UndoLog } from './undo-log.js'
import { queryContext } from './context.js'
import { StepError, TransactionAbortError, TransactionError, type TransactionErrorInit } from './errors.js'
import type { JournalEntry, TxHeader, UndoRecord } from './journal.js'
import type { OwnerEvent, Runtime, StepOwner } from './owner.js'
import { Scope, siblingFailed } from './scope.js'
import type { ProgressHandler, QueryBody, TxProgressEvent } from './types.js'

export class Transaction implements StepOwner {
  readonly id: string
  readonly query: string
  readonly undo: UndoLog
  readonly runtime: Runtime
  private readonly root: Scope
  private readonly onProgress?: ProgressHandler

  constructor (runtime: Runtime, header: TxHeader, signal: AbortSignal, onProgress?: ProgressHandler) {
    this.id = header.id
    this.query = header.name
    this.runtime = runtime
    this.undo = new UndoLog(header, runtime.journal, runtime.registry, runtime.log)
    this.root = new Scope([signal])
    if (onProgress !== undefined) this.onProgress = onProgress
  }

  emit (event: OwnerEvent): void {
    if (this.onProgress === undefined) return
    try {
      this.onProgress({ ...event, txId: this.id, query: this.query } as TxProgressEvent)
    } catch (err) {
      // A listener's bug must not fail the transaction.
      this.runtime.log.error('tx %s: progress listener threw: %s', this.id, (err as Error).name)
    }
  }

  /**
   * Journals the header before anything runs (resumable queries), taking over
   * a crashed transaction's undo entries in the same atomic batch.
   */
  async begin (takeOver?: { oldId: string, records: readonly UndoRecord[] }): Promise<void> {
    if (takeOver === undefined) {
      await this.undo.begin()
      return
    }
    const records = takeOver.records.map((r, i): UndoRecord => ({ ...r, seq: i + 1 }))
    await this.runtime.journal.replace(takeOver.oldId, this.undo.header, records as JournalEntry[])
    this.undo.markBegun()
    this.undo.adoptRecovered(records)
  }

  async execute<T>(body: QueryBody<T>): Promise<T> {
    const started = this.runtime.clock.now()
    this.emit({ type: 'tx:start' })
    let failure: { error: unknown, aborted: boolean } | undefined
    let result: T | undefined
    try {
      result = await body(queryContext(this, this.root))
      await this.root.settle()
      // Aborted but the body ignored the signal: an aborted transaction never commits.
      this.root.signal.throwIfAborted()
    } catch (err) {
      failure = { error: err, aborted: this.root.signal.aborted }
      this.root.abort(siblingFailed())
      await this.root.settle()
    }
    try {
      if (failure === undefined) {
        try {
          await this.undo.commit()
          this.emit({ type: 'tx:commit', ms: this.runtime.clock.now() - started })
          this.runtime.log.trace('tx %s %s committed', this.id, this.query)
          return result as T
        } catch (err) {
          failure = { error: err, aborted: false }
        }
      }
      this.emit({ type: 'tx:rollback', compensations: this.undo.size })
      const rollbackErrors = await this.undo.rollback().catch((err: unknown) => [err])
      const error = this.toError(failure, rollbackErrors)
      this.runtime.log('tx %s %s rolled back: %s %s', this.id, this.query, error.name, error.step.kind)
      throw error
    } finally {
      this.root.dispose()
    }
  }

  private toError (failure: { error: unknown, aborted: boolean }, rollbackErrors: unknown[]): TransactionError {
    const stepError = failure.error instanceof StepError ? failure.error : undefined
    const init: TransactionErrorInit = {
      txId: this.id,
      query: this.query,
      step: stepError?.step ?? { kind: 'query', name: this.query },
      path: stepError?.path ?? [this.query],
      cause: failure.aborted ? this.root.signal.reason : (stepError?.cause ?? failure.error),
      rollbackErrors
    }
    return failure.aborted ? new TransactionAbortError(init) : new TransactionError(init)
  }
}
