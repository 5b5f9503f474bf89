/**
 * A sustained load for fault scenarios: getImage queries over a fixed set of
 * images (each answer checked against its reference digest) and federated
 * metadata queries, running until stopped; every request becomes a
 * timestamped event, so a scenario can read off what each fault did.
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Dm2Client } from '../../src/api/client.js'
import type { UserIdentity } from '../../src/api/wallet.js'
import type { HospitalNode } from '../../src/node/index.js'
import { voxelDigest } from '../harness/dataset.js'
import { withDeadline } from './deadline.js'
import { seededRandom } from './shaping.js'

export interface LoadImage {
  lfn: string
  hospital: number
  /** Voxel digest of the reference assembly. */
  digest: string
}

export interface LoadEvent {
  kind: 'image' | 'query'
  ok: boolean
  /** Start and end, `performance.now()` ms. */
  start: number
  end: number
  lfn?: string
  hospital?: number
  error?: string
  /** Image answers: voxels equal to the reference. */
  correct?: boolean
  /** Query answers: sites that did not answer. */
  partial?: string[]
}

export interface ContinuousLoadInit {
  node: HospitalNode
  user: () => UserIdentity
  images: LoadImage[]
  outDir: string
  /** getImage queries in flight. */
  inflight: number
  /** Deadline of one request. */
  timeoutMs: number
  /** Pause between federated queries. */
  queryEveryMs: number
  seed: number
}

function describe (err: unknown): string {
  const e = err as { name?: string, step?: string, cause?: { name?: string, reason?: string } }
  return `${e.name ?? 'Error'}${e.step === undefined ? '' : `@${e.step}`}${e.cause?.name === undefined ? '' : `/${e.cause.name}${e.cause.reason === undefined ? '' : `:${e.cause.reason}`}`}`
}

export class ContinuousLoad {
  readonly events: LoadEvent[] = []
  private readonly init: ContinuousLoadInit
  private readonly stopper = new AbortController()
  private running?: Promise<void>
  private readonly random: () => number
  private n = 0

  constructor (init: ContinuousLoadInit) {
    this.init = init
    this.random = seededRandom(init.seed)
  }

  start (): void {
    if (this.running !== undefined) return
    this.running = (async () => {
      await mkdir(this.init.outDir, { recursive: true })
      const workers = Array.from({ length: this.init.inflight }, async () => { await this.imageLoop() })
      await Promise.all([...workers, this.queryLoop()])
    })()
  }

  async stop (): Promise<void> {
    this.stopper.abort()
    await this.running
  }

  /** Each request transfers (no copy kept at the requester), so that every one meets the faults on the way. */
  private async imageLoop (): Promise<void> {
    while (!this.stopper.signal.aborted) {
      const image = this.init.images[Math.floor(this.random() * this.init.images.length)] as LoadImage
      const out = join(this.init.outDir, `f${this.n++}.nii`)
      const start = performance.now()
      const client = new Dm2Client(this.init.node, this.init.user())
      try {
        await withDeadline(this.init.timeoutMs, async signal => await client.getImage(image.lfn, { out, signal, localCopy: false }), this.stopper.signal)
        const correct = voxelDigest(new Uint8Array(await readFile(out))) === image.digest
        this.events.push({ kind: 'image', ok: true, start, end: performance.now(), lfn: image.lfn, hospital: image.hospital, correct })
      } catch (err) {
        if (this.stopper.signal.aborted) break
        this.events.push({ kind: 'image', ok: false, start, end: performance.now(), lfn: image.lfn, hospital: image.hospital, error: describe(err) })
        // A failed request is not retried at once: the clinician would wait a moment too.
        await new Promise(resolve => setTimeout(resolve, 200))
      } finally {
        await rm(out, { force: true })
      }
    }
  }

  private async queryLoop (): Promise<void> {
    while (!this.stopper.signal.aborted) {
      const start = performance.now()
      const client = new Dm2Client(this.init.node, this.init.user())
      try {
        const r = await withDeadline(this.init.timeoutMs, async signal => await client.query('modality = "CT"', { signal, timeoutMs: this.init.timeoutMs }), this.stopper.signal)
        // A site the user holds no certificate of is not asked at all: not a failure.
        this.events.push({ kind: 'query', ok: true, start, end: performance.now(), partial: r.partial.filter(p => p.reason !== 'NO_AUTHORIZATION').map(p => p.peer) })
      } catch (err) {
        if (this.stopper.signal.aborted) break
        this.events.push({ kind: 'query', ok: false, start, end: performance.now(), error: describe(err) })
      }
      await new Promise(resolve => setTimeout(resolve, this.init.queryEveryMs))
    }
  }

  /** Events that ended in [from, to). */
  between (from: number, to: number): LoadEvent[] {
    return this.events.filter(e => e.end >= from && e.end < to)
  }
}
