/** Public types of the transaction engine: steps, contexts, events, dependencies. */
import type { ComponentLogger, Logger } from '@libp2p/interface'

/** The paper's three transaction types plus tools (§3.2.2): QUD, TKD, RQD, TOD. */
export type StepKind = 'query' | 'task' | 'request' | 'tool'

/** Names a step in errors, events and the journal. Names are logged: never put patient data in them. */
export interface StepRef {
  readonly kind: StepKind
  readonly name: string
}

/** Time source, injectable for tests. */
export interface Clock {
  now: () => number
}

export type JournalOperation =
  | { type: 'put', key: string, value: string }
  | { type: 'del', key: string }

/**
 * The journal's storage: a level sublevel with string keys and values, e.g.
 * `db.sublevel<string, string>('tx', { valueEncoding: 'utf8' })`.
 */
export interface JournalStore {
  batch: (operations: JournalOperation[], options: { sync: boolean }) => Promise<void>
  iterator: (options: { gte?: string, lt?: string }) => AsyncIterable<[string, string]>
}

export interface TxEngineInit {
  /** Journal storage (a level sublevel). */
  db: JournalStore
  logger: ComponentLogger
  clock?: Clock
  /** Queries running at once (default `DEFAULT_MAX_CONCURRENT_QUERIES`). */
  maxConcurrentQueries?: number
  /** Queries waiting beyond that, FIFO; more get `BusyError` (default `DEFAULT_MAX_QUEUED_QUERIES`). */
  maxQueuedQueries?: number
  /**
   * Requests in flight per service key, by exact key (`pacs:HOSPITAL_A`) or by
   * its prefix (`pacs`); others get `defaultPoolConcurrency`.
   */
  poolConcurrency?: Readonly<Record<string, number>>
  /** Default `DEFAULT_POOL_CONCURRENCY` (3, as in the paper). */
  defaultPoolConcurrency?: number
  /** Write the journal with fsync (default true; false only for throw-away test databases). */
  syncJournal?: boolean
}

/** How far a long step has come. */
export interface Progress {
  done: number
  total?: number
  bytes?: number
}

interface TxEventBase {
  txId: string
  /** The query (transaction) name. */
  query: string
}

interface StepEventBase extends TxEventBase {
  step: StepRef
  /** Names from the query down to this step. */
  path: readonly string[]
}

/** Everything `onProgress` receives; discriminated by `type`. */
export type TxProgressEvent =
  | TxEventBase & { type: 'tx:queued', position: number }
  | TxEventBase & { type: 'tx:start' }
  | StepEventBase & { type: 'step:start' }
  | StepEventBase & Progress & { type: 'step:progress' }
  | StepEventBase & { type: 'step:end', ok: boolean, ms: number }
  | TxEventBase & { type: 'tx:rollback', compensations: number }
  | TxEventBase & { type: 'tx:commit', ms: number }

export type ProgressHandler = (event: TxProgressEvent) => void

export interface RunOptions {
  signal?: AbortSignal
  onProgress?: ProgressHandler
}

/** What a compensation handler gets besides its data. */
export interface CompensationContext {
  txId: string
  step: StepRef
  log: Logger
}

export type CompensationHandler<T> = (data: T, context: CompensationContext) => Promise<void> | void

/**
 * A registered compensation kind; `T` is its JSON data. Handlers must be
 * idempotent: after a crash, recovery may run one whose effect never happened
 * or that already ran.
 */
export interface Compensation<T> {
  readonly kind: string
  /** Phantom: carries `T` for `compensate()` type checking. */
  readonly __data?: T
}

export interface CompensationOptions<T> {
  /** Checks data read back from the journal (e.g. a zod schema's `parse`); throws to refuse it. */
  parse?: (data: unknown) => T
}

/** The context every step body receives. */
export interface StepContext {
  readonly txId: string
  readonly step: StepRef
  readonly path: readonly string[]
  /** Aborted when the caller aborts, the engine closes, a sibling fails or the step times out. */
  readonly signal: AbortSignal
  readonly log: Logger
  /**
   * Journals (fsync) how to undo an effect, *before* you cause it (write-ahead),
   * so a crash between the two is also rolled back.
   */
  compensate: <T>(compensation: Compensation<T>, data: T) => Promise<void>
  /** An in-memory undo for effects that do not survive a crash anyway (a listener, a map entry). */
  onRollback: (undo: () => Promise<void> | void) => void
  progress: (progress: Progress) => void
}

/** Tools (TOD): local steps, run inline, usable from every driver. */
export interface ToolHost {
  tool: <T>(name: string, run: (tool: StepContext) => Promise<T> | T) => Promise<T>
}

export interface RequestStepOptions {
  /** Identical in-flight requests with the same key (within the service) share one execution. */
  join?: string
  /** Aborts the request (a `TimeoutError`) after this long in flight, pool wait included. */
  timeoutMs?: number
}

export interface QueryRequestOptions extends RequestStepOptions {
  /** Service key of the pool, `pacs:HOSPITAL_A`, `peer:<id>`. */
  service: string
}

/** A request (RQD): messages to one external service, holding a slot of its pool. */
export interface RequestContext extends StepContext, ToolHost {
  readonly service: string
  /**
   * Frees this request's slot of its service's pool: the external service is
   * no longer used and the rest of the request is local work, which must not
   * keep the next request waiting. Idempotent; the request itself goes on.
   */
  releaseService: () => void
}

/** Branches run concurrently; the first failure aborts the others, which are awaited before it is thrown. */
export type Branches<C, T extends readonly unknown[]> = { [K in keyof T]: (context: C) => Promise<T[K]> }

/** The results of `parallel` / `sequence`, one per branch, typed per position. */
export type Results<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] }

/** A task (TKD): a part of a query issuing requests to one service through its pool. */
export interface TaskContext extends StepContext, ToolHost {
  readonly service: string
  request: <T>(name: string, run: (request: RequestContext) => Promise<T>, options?: RequestStepOptions) => Promise<T>
  parallel: <const T extends readonly unknown[]>(branches: Branches<TaskContext, T>) => Promise<Results<T>>
}

/** The query (QUD): the whole transaction; tasks and requests in sequence or in parallel. */
export interface QueryContext extends ToolHost {
  readonly txId: string
  readonly query: string
  readonly signal: AbortSignal
  readonly log: Logger
  task: <T>(name: string, options: { service: string }, run: (task: TaskContext) => Promise<T>) => Promise<T>
  request: <T>(name: string, options: QueryRequestOptions, run: (request: RequestContext) => Promise<T>) => Promise<T>
  parallel: <const T extends readonly unknown[]>(branches: Branches<QueryContext, T>) => Promise<Results<T>>
  sequence: <const T extends readonly unknown[]>(branches: Branches<QueryContext, T>) => Promise<Results<T>>
  /** Query-level compensation and progress, for work done in the body itself. */
  compensate: <T>(compensation: Compensation<T>, data: T) => Promise<void>
  onRollback: (undo: () => Promise<void> | void) => void
  progress: (progress: Progress) => void
}

export type QueryBody<T> = (query: QueryContext) => Promise<T>

/** Engine counters. `failed` includes `aborted`. */
export interface TxStats {
  running: number
  queued: number
  rejected: number
  completed: number
  failed: number
  aborted: number
  /** Request callers served by another caller's in-flight execution. */
  joined: number
  pools: Record<string, { running: number, queued: number, concurrency: number }>
}

/** What `recover()` did with the journal. */
export interface RecoveryReport {
  rolledBack: string[]
  resumed: string[]
  /** Transactions left in the journal: a compensation failed or had no handler, or a record was corrupt. */
  failed: Array<{ txId: string, error: Error }>
}
