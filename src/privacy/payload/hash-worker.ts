/**
 * Chunk ids (SHA-256 of sealed bytes) computed on a worker thread, so that
 * sealing a large payload keeps two cores busy: AES-GCM on the calling
 * thread, SHA-256 on this one. The sealed buffer's ArrayBuffer is
 * transferred to the worker and back (no copy); the worker only ever sees
 * ciphertext, never a key or plaintext.
 *
 * One worker per process (job-worker.ts: started on first use, referenced
 * only while it has work). If it fails, the jobs it held fail with
 * HashWorkerError and the next seal starts a new one.
 */
import { HashWorkerError } from './errors.js'
import { JobWorker } from './job-worker.js'

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

export class HashWorker {
  private readonly thread = new JobWorker<{ buffer: ArrayBuffer, id: Uint8Array }>({
    source: WORKER_SOURCE,
    lost: (problem) => new HashWorkerError(problem)
  })

  /** Jobs sent and not yet answered. */
  get pending (): number { return this.thread.pending }

  /**
   * SHA-256 of `bytes` on the worker. The ArrayBuffer under `bytes` is
   * detached until the promise resolves with a new view on it: the caller
   * must own it and hold no other view it still needs.
   */
  async hash (bytes: Uint8Array): Promise<{ bytes: Uint8Array, id: Uint8Array }> {
    const { byteOffset: offset, byteLength: length } = bytes
    const buffer = bytes.buffer as ArrayBuffer
    const reply = await this.thread.run({ buffer, offset, length }, [buffer])
    return { bytes: new Uint8Array(reply.buffer, offset, length), id: reply.id }
  }

  /** Stops the worker; jobs still held fail. */
  async close (): Promise<void> {
    await this.thread.close()
  }
}

let shared: HashWorker | undefined

/** The process's hash worker (created on first call; its thread starts on first job). */
export function sharedHashWorker (): HashWorker {
  shared ??= new HashWorker()
  return shared
}
