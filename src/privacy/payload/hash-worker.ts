/**
 * Chunk ids (SHA-256 of sealed bytes) computed on a worker thread, so that
 * sealing a large payload keeps two cores busy: AES-GCM on the calling
 * thread, SHA-256 on this one. The sealed buffer's ArrayBuffer is
 * transferred to the worker and back (no copy); the worker only ever sees
 * ciphertext, never a key or plaintext.
 *
 * One worker per process, started on first use, kept referenced only while
 * it has work (an idle worker never keeps the process alive). If it fails,
 * the jobs it held fail with HashWorkerError and the next seal starts a new
 * one.
 */
import { Worker } from 'node:worker_threads'
import { HashWorkerError } from './errors.js'

/** CommonJS source of the worker: small and dependency-free, so it runs under tsx and compiled alike. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', job => {
  const bytes = new Uint8Array(job.buffer, job.offset, job.length)
  const id = new Uint8Array(createHash('sha256').update(bytes).digest())
  parentPort.postMessage({ seq: job.seq, buffer: job.buffer, id }, [job.buffer])
})
`

interface Job {
  resolve: (r: { bytes: Uint8Array, id: Uint8Array }) => void
  reject: (err: Error) => void
  offset: number
  length: number
}

interface Reply { seq: number, buffer: ArrayBuffer, id: Uint8Array }

export class HashWorker {
  private worker: Worker | undefined
  private seq = 0
  private readonly jobs = new Map<number, Job>()

  /** Jobs sent and not yet answered. */
  get pending (): number { return this.jobs.size }

  /**
   * SHA-256 of `bytes` on the worker. The ArrayBuffer under `bytes` is
   * detached until the promise resolves with a new view on it: the caller
   * must own it and hold no other view it still needs.
   */
  async hash (bytes: Uint8Array): Promise<{ bytes: Uint8Array, id: Uint8Array }> {
    const worker = this.start()
    const seq = this.seq++
    const buffer = bytes.buffer as ArrayBuffer
    return await new Promise((resolve, reject) => {
      this.jobs.set(seq, { resolve, reject, offset: bytes.byteOffset, length: bytes.byteLength })
      if (this.jobs.size === 1) worker.ref()
      worker.postMessage({ seq, buffer, offset: bytes.byteOffset, length: bytes.byteLength }, [buffer])
    })
  }

  /** Stops the worker; jobs still held fail. */
  async close (): Promise<void> {
    const w = this.worker
    this.worker = undefined
    this.fail(new HashWorkerError('closed'))
    await w?.terminate()
  }

  private start (): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref()
    worker.on('message', (reply: Reply) => {
      const job = this.jobs.get(reply.seq)
      if (job === undefined) return
      this.jobs.delete(reply.seq)
      if (this.jobs.size === 0) worker.unref()
      job.resolve({ bytes: new Uint8Array(reply.buffer, job.offset, job.length), id: reply.id })
    })
    const lost = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined
      this.fail(new HashWorkerError(err.message))
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

let shared: HashWorker | undefined

/** The process's hash worker (created on first call; its thread starts on first job). */
export function sharedHashWorker (): HashWorker {
  shared ??= new HashWorker()
  return shared
}
