/**
 * The step runners and the contexts handed to step bodies. Every step runs in
 * its own scope (signal + in-flight tracking), is announced by `step:start` /
 * `step:end` events, and turns any failure into a `StepError` naming the
 * innermost failed step.
 */
import { MAX_NAME_LENGTH } from './constants.js'
import { StepError, TxDefinitionError } from './errors.js'
import type { StepOwner } from './owner.js'
import type { UndoEntry } from './undo-log.js'
import { checkServiceKey } from './pools.js'
import { Scope, runBranches, siblingFailed } from './scope.js'
import type {
  Compensation, Progress, QueryContext, RequestContext, RequestStepOptions, StepContext, StepKind, StepRef,
  TaskContext, ToolHost
} from './types.js'

export function checkName (name: string, what = 'step'): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new TxDefinitionError(`malformed ${what} name "${String(name)}"`)
  }
}

function checkTimeout (timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new TxDefinitionError(`timeoutMs must be a positive number, got ${timeoutMs}`)
  }
}

/** Per-step state the contexts share: the undo entries registered in this step and its children. */
interface StepState {
  step: StepRef
  path: readonly string[]
  parent?: StepState
  entries: UndoEntry[]
}

function childState (parent: StepState, kind: StepKind, name: string): StepState {
  return { step: { kind, name }, path: [...parent.path, name], parent, entries: [] }
}

/** An entry belongs to its step and every enclosing one (each undoes it if it fails). */
function note (state: StepState, entry: UndoEntry): void {
  for (let s: StepState | undefined = state; s !== undefined; s = s.parent) s.entries.push(entry)
}

type StepBody<T> = (scope: Scope, state: StepState) => Promise<T>

/** Runs one step in a child scope of `parent`; settles everything it started before settling itself. */
export async function runStep<T> (
  owner: StepOwner, parent: Scope, kind: StepKind, name: string, parentState: StepState,
  timeoutMs: number | undefined, body: StepBody<T>
): Promise<T> {
  checkName(name)
  checkTimeout(timeoutMs)
  const state = childState(parentState, kind, name)
  const { clock } = owner.runtime
  const execute = async (): Promise<T> => {
    const timer = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)
    const scope = new Scope([parent.signal, timer])
    const started = clock.now()
    let ok = false
    owner.emit({ type: 'step:start', step: state.step, path: state.path })
    try {
      scope.signal.throwIfAborted()
      const value = await body(scope, state)
      await scope.settle()
      await owner.undo.stepDone(state.step, state.entries, clock.now())
      ok = true
      return value
    } catch (err) {
      scope.abort(siblingFailed())
      await scope.settle()
      // Savepoint semantics: a body that catches this and falls back keeps nothing of the failed attempt.
      await owner.undo.rollbackStep(state.entries).catch(() => {})
      if (err instanceof StepError) throw err
      // A timeout surfaces as whatever the body threw on abort; name the real cause.
      throw new StepError(state.step, state.path, timer?.aborted === true ? timer.reason : err)
    } finally {
      scope.dispose()
      owner.emit({ type: 'step:end', step: state.step, path: state.path, ok, ms: clock.now() - started })
    }
  }
  return await parent.track(execute())
}

function progressOf (owner: StepOwner, state: StepState): (progress: Progress) => void {
  return (progress) => {
    const event = { type: 'step:progress' as const, step: state.step, path: state.path, done: progress.done }
    owner.emit({
      ...event,
      ...(progress.total === undefined ? {} : { total: progress.total }),
      ...(progress.bytes === undefined ? {} : { bytes: progress.bytes })
    })
  }
}

function compensateOf (owner: StepOwner, state: StepState) {
  return async <D>(compensation: Compensation<D>, data: D): Promise<void> => {
    if (typeof compensation?.kind !== 'string') throw new TxDefinitionError('compensate() needs a registered compensation')
    note(state, await owner.undo.add(state.step, compensation.kind, data))
  }
}

function toolHost (owner: StepOwner, scope: Scope, parent: StepState): ToolHost {
  return {
    tool: async (name, run) => await runStep(owner, scope, 'tool', name, parent, undefined,
      async (s, state) => await run(stepContext(owner, s, state)))
  }
}

function stepContext (owner: StepOwner, scope: Scope, state: StepState): StepContext & ToolHost {
  return {
    txId: owner.id,
    step: state.step,
    path: state.path,
    signal: scope.signal,
    log: owner.runtime.log,
    compensate: compensateOf(owner, state),
    onRollback: (undo) => { note(state, owner.undo.addInMemory(undo)) },
    progress: progressOf(owner, state),
    ...toolHost(owner, scope, state)
  }
}

function requestContext (owner: StepOwner, scope: Scope, state: StepState, service: string, release: () => void): RequestContext {
  return { ...stepContext(owner, scope, state), service, releaseService: release }
}

/** A request: through the service's pool, or joined with an identical one in flight. */
async function runRequest<T> (
  owner: StepOwner, parent: Scope, parentState: StepState, service: string, name: string,
  options: RequestStepOptions, run: (request: RequestContext) => Promise<T>
): Promise<T> {
  checkServiceKey(service)
  const { pools, joiner } = owner.runtime
  return await runStep(owner, parent, 'request', name, parentState, options.timeoutMs, async (scope, state) => {
    if (options.join === undefined) {
      return await pools.run(service, scope.signal, async (release) => await run(requestContext(owner, scope, state, service, release)))
    }
    checkName(options.join, 'join key')
    return await joiner.join<T>(`${service}\u0000${options.join}`, name, {
      signal: scope.signal,
      progress: progressOf(owner, state),
      adopt: async (records, shared) => { note(state, await owner.undo.adopt(state.step, records, shared)) }
    }, async (exec, execScope) => await pools.run(service, execScope.signal, async (release) => {
      const sharedState: StepState = { step: state.step, path: [name], entries: [] }
      return await run(requestContext(exec, execScope, sharedState, service, release))
    }))
  })
}

export function taskContext (owner: StepOwner, scope: Scope, state: StepState, service: string): TaskContext {
  return {
    ...stepContext(owner, scope, state),
    service,
    request: async (name, run, options = {}) => await runRequest(owner, scope, state, service, name, options, run),
    parallel: async (branches) => await runBranches(scope, branches as ReadonlyArray<(t: TaskContext) => Promise<unknown>>,
      (s) => taskContext(owner, s, state, service)) as never
  }
}

/** The query context bound to one scope (the transaction's root, or a parallel branch's). */
export function queryContext (owner: StepOwner, scope: Scope): QueryContext {
  const state: StepState = { step: { kind: 'query', name: owner.query }, path: [owner.query], entries: [] }
  const context: QueryContext = {
    txId: owner.id,
    query: owner.query,
    signal: scope.signal,
    log: owner.runtime.log,
    ...toolHost(owner, scope, state),
    task: async (name, options, run) => {
      checkServiceKey(options.service)
      return await runStep(owner, scope, 'task', name, state, undefined,
        async (s, taskState) => await run(taskContext(owner, s, taskState, options.service)))
    },
    request: async (name, options, run) => await runRequest(owner, scope, state, options.service, name, options, run),
    parallel: async (branches) => await runBranches(scope, branches as ReadonlyArray<(q: QueryContext) => Promise<unknown>>,
      (s) => queryContext(owner, s)) as never,
    sequence: async (branches) => {
      const results: unknown[] = []
      for (const branch of branches as ReadonlyArray<(q: QueryContext) => Promise<unknown>>) results.push(await branch(context))
      return results as never
    },
    compensate: compensateOf(owner, state),
    onRollback: (undo) => { owner.undo.addInMemory(undo) },
    progress: progressOf(owner, state)
  }
  return context
}
