/**
 * A deadline that fires. On Node 20, `AbortSignal.any([s, AbortSignal.timeout(ms)])`
 * never aborts once the timeout signal has been garbage-collected: the
 * composite holds its sources weakly and the timer holds the timeout signal
 * weakly (reproduced here: a GC before the deadline, and the composite stays
 * unaborted). Under load, requests then run past their deadline. Here the
 * timer holds the controller strongly until the work is done.
 */
export async function withDeadline<T> (ms: number, work: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError')) }, ms)
  const onAbort = (): void => { controller.abort(parent?.reason) }
  if (parent?.aborted === true) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onAbort, { once: true })
  try {
    return await work(controller.signal)
  } finally {
    clearTimeout(timer)
    parent?.removeEventListener('abort', onAbort)
  }
}
