/**
 * HPKE single-shot seal and open (the key wrapping of keywrap.ts) on a
 * worker thread. @hpke/core runs on WebCrypto, whose every step is a
 * promise settled from libuv's thread pool: one wrap is about twenty of
 * them (key import and export, X25519, each HMAC of the key schedule,
 * AES-GCM), and each waits for the calling thread's event loop to come
 * round again. On a node busy moving chunks that turned a 0.5 ms wrap into
 * 15-50 ms, on the path of every getImage. On the worker's own, idle event
 * loop the same steps follow each other at once; the caller waits for one
 * message.
 *
 * The worker runs the same library (its CommonJS build, resolved from here)
 * with the same suite; it sees the data key or the recipient's private key
 * of the job it runs (same process, same trust). One worker per process,
 * started on first use, referenced only while it has work; if it fails,
 * its jobs fail with HpkeWorkerError and the caller falls back to the
 * calling thread.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { HpkeWorkerError } from './errors.js'

/** CommonJS source of the worker: the suite of keywrap.ts, one job per message. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } = require(workerData.hpke)
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() })
parentPort.on('message', async job => {
  try {
    if (job.op === 'seal') {
      const recipientPublicKey = await suite.kem.deserializePublicKey(job.key)
      const sealed = await suite.seal({ recipientPublicKey, info: job.info }, job.plaintext)
      parentPort.postMessage({ seq: job.seq, enc: new Uint8Array(sealed.enc), ct: new Uint8Array(sealed.ct) })
    } else {
      const recipientKey = await suite.kem.deserializePrivateKey(job.key)
      const plaintext = await suite.open({ recipientKey, enc: job.enc, info: job.info }, job.ct)
      parentPort.postMessage({ seq: job.seq, plaintext: new Uint8Array(plaintext) })
    }
  } catch {
    parentPort.postMessage({ seq: job.seq, failed: true })
  }
})
`

export type HpkeJob =
  | { op: 'seal', key: Uint8Array, info: Uint8Array, plaintext: Uint8Array }
  | { op: 'open', key: Uint8Array, info: Uint8Array, enc: Uint8Array, ct: Uint8Array }

export interface HpkeReply {
  enc?: Uint8Array
  ct?: Uint8Array
  plaintext?: Uint8Array
  /** The library refused the job (a bad key, a wrong tag): the caller's typed error. */
  failed?: true
}

interface Pending { resolve: (r: HpkeReply) => void, reject: (err: Error) => void }

export class HpkeWorker {
  private worker: Worker | undefined
  private seq = 0
  private readonly jobs = new Map<number, Pending>()

  /** Runs one job; rejects with HpkeWorkerError if the worker cannot run it at all. */
  async run (job: HpkeJob): Promise<HpkeReply> {
    const worker = this.start()
    const seq = this.seq++
    return await new Promise((resolve, reject) => {
      this.jobs.set(seq, { resolve, reject })
      if (this.jobs.size === 1) worker.ref()
      worker.postMessage({ ...job, seq })
    })
  }

  async close (): Promise<void> {
    const w = this.worker
    this.worker = undefined
    this.fail(new HpkeWorkerError('closed'))
    await w?.terminate()
  }

  private start (): Worker {
    if (this.worker !== undefined) return this.worker
    const hpke = createRequire(import.meta.url).resolve('@hpke/core')
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { hpke } })
    worker.unref()
    worker.on('message', (reply: HpkeReply & { seq: number }) => {
      const job = this.jobs.get(reply.seq)
      if (job === undefined) return
      this.jobs.delete(reply.seq)
      if (this.jobs.size === 0) worker.unref()
      const { seq: _seq, ...answer } = reply
      job.resolve(answer)
    })
    const lost = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined
      this.fail(new HpkeWorkerError(err.message))
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

let shared: HpkeWorker | undefined

/** The process's HPKE worker (created on first call; its thread starts on first job). */
export function sharedHpkeWorker (): HpkeWorker {
  shared ??= new HpkeWorker()
  return shared
}
