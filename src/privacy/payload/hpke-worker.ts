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
 * of the job it runs (same process, same trust). One worker per process
 * (job-worker.ts: started on first use, referenced only while it has work);
 * if it fails, its jobs fail with HpkeWorkerError and the caller falls back
 * to the calling thread.
 */
import { createRequire } from 'node:module'
import { HpkeWorkerError } from './errors.js'
import { JobWorker } from './job-worker.js'

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

export class HpkeWorker {
  private readonly thread = new JobWorker<HpkeReply>({
    source: WORKER_SOURCE,
    workerData: () => ({ hpke: createRequire(import.meta.url).resolve('@hpke/core') }),
    lost: (problem) => new HpkeWorkerError(problem)
  })

  /** Runs one job; rejects with HpkeWorkerError if the worker cannot run it at all. */
  async run (job: HpkeJob): Promise<HpkeReply> {
    return await this.thread.run(job)
  }

  async close (): Promise<void> {
    await this.thread.close()
  }
}

let shared: HpkeWorker | undefined

/** The process's HPKE worker (created on first call; its thread starts on first job). */
export function sharedHpkeWorker (): HpkeWorker {
  shared ??= new HpkeWorker()
  return shared
}
