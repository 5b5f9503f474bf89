/** Errors of the `scale` scenario. Tests assert on `err.name`. */

/** A worker process failed a command, did not answer in time, or exited. */
export class WorkerError extends Error {
  static override name = 'WorkerError'
  readonly worker: number

  constructor (worker: number, message: string) {
    super(`scale worker ${worker}: ${message}`)
    this.name = 'WorkerError'
    this.worker = worker
  }
}

/** A command-line option of the scenario is malformed. */
export class ScaleUsageError extends Error {
  static override name = 'ScaleUsageError'

  constructor (message: string) {
    super(message)
    this.name = 'ScaleUsageError'
  }
}
