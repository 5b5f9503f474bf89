/**
 * p-queue with an abort that only applies while waiting: once a job runs, it
 * keeps its slot until it has actually settled (p-queue would otherwise free
 * the slot as soon as the signal fires, letting more jobs run than the limit).
 */
import type PQueue from 'p-queue'

export async function addAbortable<T> (
  queue: PQueue, signal: AbortSignal | undefined, job: () => Promise<T>
): Promise<T> {
  signal?.throwIfAborted()
  if (signal === undefined) return await queue.add(job)
  const waiting = new AbortController()
  const onAbort = (): void => { waiting.abort(signal.reason) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await queue.add(async () => {
      signal.removeEventListener('abort', onAbort)
      return await job()
    }, { signal: waiting.signal })
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
