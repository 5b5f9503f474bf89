/** Errors of the transaction engine. Tests assert on `err.name`. */
import type { StepRef } from './types.js'

export interface TransactionErrorInit {
  txId: string
  /** Name of the query (the transaction). */
  query: string
  /** The step that failed: the innermost one, or the query itself when the body failed outside any step. */
  step: StepRef
  /** Names from the query down to the failed step. */
  path: readonly string[]
  cause: unknown
  /** Compensations that failed during rollback; their journal entries are kept for `recover()`. */
  rollbackErrors?: readonly unknown[]
}

function describe (cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`
  return String(cause)
}

/**
 * The one error a caller gets when a transaction does not commit. Every
 * compensation registered so far has been run (in reverse order) before it
 * is thrown; `rollbackErrors` lists those that failed.
 */
export class TransactionError extends Error {
  static override name = 'TransactionError'
  readonly txId: string
  readonly query: string
  readonly step: StepRef
  readonly path: readonly string[]
  readonly rollbackErrors: readonly unknown[]

  constructor (init: TransactionErrorInit, what = 'failed') {
    super(`${init.query}: ${init.step.kind} "${init.step.name}" ${what}: ${describe(init.cause)}`, { cause: init.cause })
    this.name = 'TransactionError'
    this.txId = init.txId
    this.query = init.query
    this.step = init.step
    this.path = init.path
    this.rollbackErrors = init.rollbackErrors ?? []
  }

  /** True when every compensation ran; false leaves work for `recover()`. */
  get rolledBack (): boolean { return this.rollbackErrors.length === 0 }
}

/**
 * The transaction was aborted by its caller's signal or by the engine closing.
 * Named `AbortError` because that is how aborts are recognised everywhere
 * (DOM `AbortSignal`, fetch, libp2p, p-queue); it is still a `TransactionError`
 * naming the step that was interrupted, and `cause` is the signal's reason.
 */
export class TransactionAbortError extends TransactionError {
  static override name = 'AbortError'

  constructor (init: TransactionErrorInit) {
    super(init, 'aborted')
    this.name = 'AbortError'
  }
}

/**
 * What a query body sees when one of its steps fails: the innermost failed
 * step and the original error as `cause`. A body may catch it to fall back
 * (another PACS, a replica); uncaught, it becomes the `TransactionError`.
 */
export class StepError extends Error {
  static override name = 'StepError'
  readonly step: StepRef
  readonly path: readonly string[]

  constructor (step: StepRef, path: readonly string[], cause: unknown) {
    super(`${step.kind} "${step.name}" failed: ${describe(cause)}`, { cause })
    this.name = 'StepError'
    this.step = step
    this.path = path
  }
}

/** Admission control: every query slot and every queue place is taken (status `BUSY`). */
export class BusyError extends Error {
  static override name = 'BusyError'
  readonly running: number
  readonly queued: number

  constructor (running: number, queued: number) {
    super(`transaction engine busy: ${running} queries running, ${queued} queued`)
    this.name = 'BusyError'
    this.running = running
    this.queued = queued
  }
}

/** The engine was closed; it accepts no more queries. */
export class EngineClosedError extends Error {
  static override name = 'EngineClosedError'

  constructor () {
    super('transaction engine closed')
    this.name = 'EngineClosedError'
  }
}

/** A compensation kind with no registered handler (or a resumable kind with no body). */
export class UnknownCompensationError extends Error {
  static override name = 'UnknownCompensationError'
  readonly kind: string

  constructor (kind: string, what = 'compensation') {
    super(`no ${what} handler registered for kind "${kind}"`)
    this.name = 'UnknownCompensationError'
    this.kind = kind
  }
}

/**
 * The engine was used wrongly: a malformed name or kind, compensation data
 * that is not JSON or too large, a kind registered twice, a context used after
 * its transaction ended. Nothing was changed.
 */
export class TxDefinitionError extends Error {
  static override name = 'TxDefinitionError'

  constructor (problem: string) {
    super(problem)
    this.name = 'TxDefinitionError'
  }
}

/** A journal record could not be decoded (corrupt, too large, unknown version). It is left in place. */
export class JournalRecordError extends Error {
  static override name = 'JournalRecordError'
  readonly key: string

  constructor (key: string, problem: string) {
    super(`journal record ${key}: ${problem}`)
    this.name = 'JournalRecordError'
    this.key = key
  }
}
