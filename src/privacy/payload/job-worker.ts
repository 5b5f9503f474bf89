/**
 * A worker thread running one kind of job, as the payload's workers use it
 * (hash-worker.ts, hpke-worker.ts): started from CommonJS source on the
 * first job, kept referenced only while it has work (an idle worker never
 * keeps the process alive), each reply matched to its job by a sequence
 * number. If the thread fails or is stopped, the jobs it held fail with the
 * error `lost` makes, and the next job starts a new thread.
 */
import { Worker, type Transferable } from 'node:worker_threads'

export interface JobWorkerInit {
  /** CommonJS source: answers each message `{ seq, … }` with a message carrying the same `seq`. */
  source: string
  /** The worker's `workerData`, computed when a thread starts. */
  workerData?: () => unknown
  /** The typed error a held job fails with when the thread is lost. */
  lost: (problem: string) => Error
}

interface Pending<R> { resolve: (r: R) => void, reject: (err: Error) => void }

export class JobWorker<Reply> {
  private worker: Worker | undefined
  private seq = 0
  private readonly jobs = new Map<number, Pending<Reply>>()

  constructor (private readonly init: JobWorkerInit) {}

  /** Jobs sent and not yet answered. */
  get pending (): number { return this.jobs.size }

  /** Posts one job (transferring `transfer`, synchronously) and resolves with its reply, `seq` left out. */
  async run (job: object, transfer: Transferable[] = []): Promise<Reply> {
    const worker = this.start()
    const seq = this.seq++
    return await new Promise((resolve, reject) => {
      this.jobs.set(seq, { resolve, reject })
      if (this.jobs.size === 1) worker.ref()
      worker.postMessage({ ...job, seq }, transfer)
    })
  }

  /** Stops the thread; jobs still held fail. */
  async close (): Promise<void> {
    const w = this.worker
    this.worker = undefined
    this.fail(this.init.lost('closed'))
    await w?.terminate()
  }

  private start (): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(this.init.source, { eval: true, workerData: this.init.workerData?.() })
    worker.unref()
    worker.on('message', ({ seq, ...reply }: { seq: number }) => {
      const job = this.jobs.get(seq)
      if (job === undefined) return
      this.jobs.delete(seq)
      if (this.jobs.size === 0) worker.unref()
      job.resolve(reply as Reply)
    })
    const lost = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined
      this.fail(this.init.lost(err.message))
    }
    worker.on('error', lost)
    worker.on('exit', code => { lost(new Error(`exited with code ${code}`)) })
    this.worker = worker
    return worker
  }

  private fail (err: Error): void {
    const jobs = [...this.jobs.values()]
    this.jobs.clear()
    for (const j of jobs) j.reject(err)
  }
}
