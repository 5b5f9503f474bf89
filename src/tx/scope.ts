/**
 * Structured concurrency for steps: a scope has one abort signal (linked to
 * its parents') and tracks the steps started in it, so that nothing is still
 * running — or still registering compensations — when a transaction rolls back.
 */
import { setMaxListeners } from 'node:events'

/** Why siblings are aborted when one branch fails. */
export function siblingFailed (): DOMException {
  return new DOMException('a sibling step failed', 'AbortError')
}

export class Scope {
  private readonly controller = new AbortController()
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly unlink: () => void

  constructor (parents: ReadonlyArray<AbortSignal | undefined>) {
    // One listener per child step or pool wait; they are removed on dispose, so many is not a leak.
    setMaxListeners(Infinity, this.controller.signal)
    const linked: Array<[AbortSignal, () => void]> = []
    for (const parent of parents) {
      if (parent === undefined) continue
      if (parent.aborted) {
        this.controller.abort(parent.reason)
        break
      }
      const onAbort = (): void => { this.controller.abort(parent.reason) }
      parent.addEventListener('abort', onAbort, { once: true })
      linked.push([parent, onAbort])
    }
    this.unlink = () => {
      for (const [parent, onAbort] of linked) parent.removeEventListener('abort', onAbort)
    }
  }

  get signal (): AbortSignal { return this.controller.signal }

  abort (reason: unknown): void { this.controller.abort(reason) }

  /** Tracks a started step; its rejection is handled here too (the caller still sees it). */
  track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise)
    const forget = (): void => { this.inFlight.delete(promise) }
    promise.then(forget, forget)
    return promise
  }

  /** Waits until every tracked step (including ones started meanwhile) has settled. */
  async settle (): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  /** Detaches from the parents' signals (call once the scope's owner has settled). */
  dispose (): void { this.unlink() }
}

/** Runs branches concurrently in a child scope: fail fast, but settle all before throwing. */
export async function runBranches<C, T> (
  parent: Scope, branches: ReadonlyArray<(context: C) => Promise<T>>, contextFor: (scope: Scope) => C
): Promise<T[]> {
  const scope = new Scope([parent.signal])
  let failure: { error: unknown } | undefined
  const context = contextFor(scope)
  const results = branches.map(async (branch) => {
    try {
      return await branch(context)
    } catch (err) {
      if (failure === undefined) {
        failure = { error: err }
        scope.abort(siblingFailed())
      }
      throw err
    }
  })
  const settled = await Promise.allSettled(results)
  await scope.settle()
  scope.dispose()
  if (failure !== undefined) throw failure.error
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value)
}
