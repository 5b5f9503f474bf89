/**
 * Background work that yields to foreground work: wait until `busy()` has
 * stayed false for `quietMs`, or until `until` (epoch ms) at the latest, or
 * until `enough()` says the wait should end now. Polled every `pollMs`;
 * rejects with the signal's reason if it aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises'

export interface QuietWait {
  busy: () => boolean
  quietMs: number
  /** Epoch ms: the wait ends then, quiet or not. */
  until: number
  pollMs: number
  /** Ends the wait early (e.g. more urgent work is queued behind). */
  enough?: () => boolean
  signal?: AbortSignal
}

export async function waitForQuiet (w: QuietWait): Promise<void> {
  let quietSince = w.busy() ? undefined : Date.now()
  while (Date.now() < w.until) {
    if (w.enough?.() === true) return
    if (w.busy()) quietSince = undefined
    else quietSince ??= Date.now()
    if (quietSince !== undefined && Date.now() - quietSince >= w.quietMs) return
    await sleep(w.pollMs, undefined, w.signal === undefined ? {} : { signal: w.signal })
  }
}
