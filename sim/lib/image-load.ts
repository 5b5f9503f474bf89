/**
 * The requesting site's load: a list of getImage queries, all submitted at
 * t = 0 and run by the site's engine at most `inflight` at a time (the paper's
 * engine also bounded its channels), counted as solved when they finish
 * within the window. Each query's time is split by getImage's own progress
 * events into locate / prepare / transfer / decrypt, which is where a
 * bottleneck shows.
 */
import { setMaxListeners } from 'node:events'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { getImage, type GetImageResult } from '../../src/api/get-image.js'
import type { Wallet } from '../../src/api/wallet.js'
import type { HospitalNode } from '../../src/node/index.js'

export interface ImageJob {
  lfn: string
  /** Index of the master hospital. */
  hospital: number
  /** Library series number (for checking the answer). */
  series?: number
}

export interface StageTimes {
  /** DHT lookup of the LFN record. */
  locate: number
  /** The master's preparation as seen by the requester (C-GET, assembly, sealing, signing). */
  prepare: number
  /** Holders lookup, chunk transfer, key release. */
  transfer: number
  /** Decryption and writing the volume. */
  decrypt: number
}

export interface JobOutcome {
  job: ImageJob
  ok: boolean
  /** Finish time, ms from the start of the load. */
  at: number
  ms: number
  stages?: StageTimes
  bytes?: number
  error?: string
  /** What the check of the answer said (when a check was given). */
  correct?: boolean
}

export interface ImageLoadInit {
  node: HospitalNode
  wallet: Wallet | (() => Wallet)
  jobs: ImageJob[]
  outDir: string
  inflight: number
  /** Stop starting new queries, and abort those running, after this long. */
  windowMs: number
  /** Checks an answer before its file is removed. */
  check?: (job: ImageJob, path: string, result: GetImageResult) => Promise<boolean>
  signal?: AbortSignal
  /** Called as each query ends. */
  onOutcome?: (o: JobOutcome) => void
}

export interface ImageLoadResult {
  outcomes: JobOutcome[]
  /** Queries finished successfully within the window. */
  solved: number
  /** Every query finished before the window closed (the load was too small to measure the window). */
  exhausted: boolean
  elapsedMs: number
}

function errorName (err: unknown): string {
  const e = err as { name?: string, step?: string, cause?: { name?: string, reason?: string, code?: string } }
  const detail = e.cause?.reason ?? e.cause?.code
  const cause = e.cause?.name === undefined ? '' : `/${e.cause.name}${detail === undefined ? '' : `:${detail}`}`
  return `${e.name ?? 'Error'}${e.step === undefined ? '' : `@${e.step}`}${cause}`
}

export async function runImageLoad (init: ImageLoadInit): Promise<ImageLoadResult> {
  await mkdir(init.outDir, { recursive: true })
  const start = performance.now()
  // The window closes by this controller, held by its timer (see deadline.ts for why not AbortSignal.any/timeout).
  const stop = new AbortController()
  const signal = stop.signal
  setMaxListeners(Infinity, signal)
  const onAbort = (): void => { stop.abort() }
  init.signal?.addEventListener('abort', onAbort, { once: true })
  const timer = setTimeout(() => { stop.abort() }, init.windowMs)
  const outcomes: JobOutcome[] = []
  const queue = [...init.jobs]
  let n = 0
  const one = async (job: ImageJob): Promise<void> => {
    const t0 = performance.now()
    const marks: Record<string, number> = {}
    const out = join(init.outDir, `q${n++}.nii`)
    const wallet = typeof init.wallet === 'function' ? init.wallet() : init.wallet
    let outcome: JobOutcome
    try {
      const result = await getImage(init.node, wallet, job.lfn, {
        out,
        signal,
        // The paper's requester kept nothing: every query is a transfer (and no copy is written meanwhile).
        localCopy: false,
        onProgress: e => { if (e.step !== 'fetch') marks[e.step] ??= performance.now() }
      })
      const t = performance.now()
      const m = { locate: marks.locate ?? t0, prepare: marks.prepare ?? t0, decrypt: marks.decrypt ?? t }
      outcome = {
        job,
        ok: true,
        at: t - start,
        ms: t - t0,
        bytes: result.bytes,
        stages: { locate: m.locate - t0, prepare: m.prepare - m.locate, transfer: m.decrypt - m.prepare, decrypt: t - m.decrypt }
      }
      if (init.check !== undefined) outcome.correct = await init.check(job, out, result)
    } catch (err) {
      const t = performance.now()
      outcome = { job, ok: false, at: t - start, ms: t - t0, error: signal.aborted ? 'aborted' : errorName(err) }
    }
    await rm(out, { force: true })
    outcomes.push(outcome)
    init.onOutcome?.(outcome)
  }
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job !== undefined && !signal.aborted; job = queue.shift()) await one(job)
  }
  await Promise.all(Array.from({ length: Math.max(1, init.inflight) }, worker))
  clearTimeout(timer)
  init.signal?.removeEventListener('abort', onAbort)
  const elapsedMs = performance.now() - start
  const solved = outcomes.filter(o => o.ok && o.at <= init.windowMs).length
  return { outcomes, solved, exhausted: queue.length === 0 && elapsedMs < init.windowMs, elapsedMs }
}

/** Mean of each stage over the successful queries. */
export function meanStages (outcomes: JobOutcome[]): StageTimes | undefined {
  const ok = outcomes.filter((o): o is JobOutcome & { stages: StageTimes } => o.ok && o.stages !== undefined)
  if (ok.length === 0) return undefined
  const sum = (k: keyof StageTimes): number => ok.reduce((s, o) => s + o.stages[k], 0) / ok.length
  return { locate: sum('locate'), prepare: sum('prepare'), transfer: sum('transfer'), decrypt: sum('decrypt') }
}
