/**
 * Clean exit on SIGINT/SIGTERM: stop everything, then exit 0. A second signal
 * while stopping exits at once with 130; a stop that hangs is cut off.
 */
export interface Shutdown {
  /** True once a signal has arrived. */
  readonly requested: boolean
}

const STOP_TIMEOUT_MS = 15_000

export function onShutdownSignals (stop: () => Promise<void>): Shutdown {
  const state = { requested: false }
  const handler = (signal: NodeJS.Signals): void => {
    if (state.requested) {
      console.error(`dm2: ${signal} again, exiting without a clean stop`)
      process.exit(130)
    }
    state.requested = true
    console.error(`dm2: ${signal} received, stopping…`)
    const timer = setTimeout(() => {
      console.error(`dm2: stop took longer than ${STOP_TIMEOUT_MS} ms, exiting`)
      process.exit(1)
    }, STOP_TIMEOUT_MS)
    timer.unref()
    stop().then(() => {
      console.error('dm2: stopped')
      process.exit(0)
    }, (err: unknown) => {
      console.error(`dm2: error while stopping: ${(err as Error).message}`)
      process.exit(1)
    })
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return state
}

/** Resolves never: the process ends through the signal handler. */
export async function forever (): Promise<never> {
  return await new Promise<never>(() => {})
}
