/** One timed getImage at a node, as bench/getimage.ts measures it in either requester. */
import { rm } from 'node:fs/promises'
import { getImage } from '../../src/api/get-image.js'
import type { Wallet } from '../../src/api/wallet.js'
import type { HospitalNode } from '../../src/node/index.js'
import { round } from './report.js'

export interface TimedGet {
  /** ms from the call to the volume written, taken in the requester's process. */
  ms: number
  /** ms from the call to each step's first event. */
  steps: Record<string, number>
  /** Chunks read from the requester's own copy. */
  fromCopy: number
}

/** getImage of `lfn` into `out` (removed again afterwards), timed step by step. */
export async function timedGetImage (node: HospitalNode, wallet: Wallet, args: { lfn: string, out: string, localCopy: boolean }): Promise<TimedGet> {
  const t = performance.now()
  const steps: Record<string, number> = {}
  const result = await getImage(node, wallet, args.lfn, {
    out: args.out,
    localCopy: args.localCopy,
    onProgress: (e) => { if (steps[e.step] === undefined) steps[e.step] = round(performance.now() - t, 1) }
  })
  const ms = performance.now() - t
  await rm(args.out, { force: true })
  return { ms, steps, fromCopy: result.sources[node.peerId.toString()] ?? 0 }
}
