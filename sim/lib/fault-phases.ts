/**
 * The faults of the `faults` scenario, each injected while the load runs and
 * measured the same way: detection (the first effect the requesting site
 * saw), recovery (until the probes pass again), and the requests that failed
 * in between.
 */
import { join } from 'node:path'
import { readFile, rm } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { Dm2Client } from '../../src/api/client.js'
import { chunkArguments } from '../../src/node/data-plane.js'
import { verifySignedManifest } from '../../src/privacy/payload/index.js'
import { imageArguments } from '../../src/protocols/image/index.js'
import type { LibrarySeries } from '../harness/dataset.js'
import { voxelDigest } from '../harness/dataset.js'
import type { SimFederation } from '../harness/federation.js'
import type { RequesterObserver } from '../harness/observer.js'
import { federationHealth, type ProbeImage } from '../harness/probes.js'
import type { ContinuousLoad, LoadEvent } from './fault-load.js'
import { withDeadline } from './deadline.js'
import type { Imager } from './imager.js'

export interface FaultContext {
  fed: SimFederation
  load: ContinuousLoad
  observer: RequesterObserver
  images: ProbeImage[]
  factor: number
  scratch: string
  /** Median getImage latency before any fault, ms. */
  baselineMs: number
  /** How long a fault is left in place, ms. */
  holdMs: number
  /** The load's deadline of one request, ms. */
  requestTimeoutMs: number
  /** Longest wait for a recovery, ms. */
  recoverTimeoutMs: number
  log: (line: string) => void
}

export interface FaultReport {
  fault: string
  target: string
  /** How it was seen or what was special about it. */
  note: string
  /** ms from injection to the first effect seen; null if none was seen. */
  detectMs: number | null
  /** ms from the end of the fault (its repair, or its injection if it is repaired by the federation) until the probes pass; null if they never did. */
  recoverMs: number | null
  failed: number
  /** Of those, requests that ran out of time (a deadline passed: a loaded machine, or a fault held them). */
  timedOut: number
  /** The failed requests by error (name, step, cause: never patient data), e.g. `TimeoutError ×2, GetImageError@fetch ×1`. */
  errors: string
  /** Queries answered without some site. */
  degraded: number
  requests: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Polls `check` until it holds; the time it first held, or undefined after `timeoutMs`. */
export async function until (check: () => Promise<boolean>, timeoutMs: number, pollMs = 300): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return performance.now()
    if (performance.now() > deadline) return undefined
    await sleep(pollMs)
  }
}

function tally (ctx: FaultContext, from: number, to: number): { failed: number, timedOut: number, errors: string, degraded: number, requests: number } {
  const events = ctx.load.between(from, to)
  const failures = events.filter(e => !e.ok)
  const counts = new Map<string, number>()
  for (const e of failures) counts.set(e.error ?? 'Error', (counts.get(e.error ?? 'Error') ?? 0) + 1)
  return {
    failed: failures.length,
    timedOut: failures.filter(e => e.error?.includes('TimeoutError') === true).length,
    errors: [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([error, n]) => `${error} ×${n}`).join(', '),
    degraded: events.filter(e => e.ok && (e.partial?.length ?? 0) > 0).length,
    requests: events.length
  }
}

function firstEffect (ctx: FaultContext, from: number, affected: (e: LoadEvent) => boolean): number | undefined {
  return ctx.load.events.filter(e => e.end >= from && affected(e)).reduce<number | undefined>((m, e) => m === undefined || e.end < m ? e.end : m, undefined)
}

/**
 * When a client could first tell something was wrong: a request that failed
 * (at its end), or one still unanswered `slowMs` after it started (then, not
 * at its end). Only requests `affected` by the fault count.
 */
function firstSeen (ctx: FaultContext, from: number, slowMs: number, affected: (e: LoadEvent) => boolean): number | undefined {
  let first: number | undefined
  for (const e of ctx.load.events) {
    if (e.end < from || !affected(e)) continue
    const at = !e.ok ? e.end : e.end - e.start > slowMs ? Math.max(from, e.start + slowMs) : undefined
    if (at !== undefined && (first === undefined || at < first)) first = at
  }
  return first
}

const earliest = (...t: Array<number | undefined>): number | undefined => t.filter((x): x is number => x !== undefined).reduce<number | undefined>((m, x) => m === undefined || x < m ? x : m, undefined)
const ms = (t: number | undefined, from: number): number | null => t === undefined ? null : Math.round(t - from)

/** One getImage of `image` through the network (no copy kept at the requester), checked; its duration in ms, or undefined if it failed. */
export async function timedGet (ctx: FaultContext, image: ProbeImage, timeoutMs = 10_000): Promise<number | undefined> {
  const out = join(ctx.scratch, `probe-${image.hospital}-${Math.round(performance.now())}.nii`)
  const t = performance.now()
  try {
    await withDeadline(timeoutMs, async signal => await new Dm2Client(ctx.fed.requester, ctx.fed.user()).getImage(image.lfn, { out, signal, localCopy: false }))
    return voxelDigest(new Uint8Array(await readFile(out))) === image.digest ? performance.now() - t : undefined
  } catch {
    return undefined
  } finally {
    await rm(out, { force: true })
  }
}

/** Replication restored without `gone`: every live master's images at the factor again, none counting `gone`. */
async function replicatedWithout (ctx: FaultContext, gone: string): Promise<boolean> {
  const live = ctx.fed.hospitals.filter(h => h.peerId !== gone && h.handle.alive)
  const reports = await Promise.all(live.map(async h => await h.handle.call('reconcile')))
  return reports.flat().every(r => r.live.length >= ctx.factor && !r.live.includes(gone))
}

/** Kills a hospital (SIGKILL), while an imager pushes to it; recovered when replication is restored without it. */
export async function killHospital (ctx: FaultContext, index: number, imager: Imager, series: LibrarySeries[]): Promise<FaultReport> {
  const h = ctx.fed.hospitals[index]
  if (h === undefined) throw new RangeError('no such hospital')
  const { dicomPort } = await h.handle.call('status')
  const stopImager = new AbortController()
  const pushing = (async () => {
    for (const s of series) {
      if (stopImager.signal.aborted) return
      await imager.push({ host: '127.0.0.1', port: dicomPort, aeTitle: h.init.nodeAeTitle }, s, stopImager.signal)
    }
  })()
  await sleep(800)
  const t0 = performance.now()
  await h.handle.kill()
  stopImager.abort()
  await pushing
  // One of its images, asked for now: its master is gone, so this must fail (and tells when a client notices).
  const mine = ctx.images.find(i => i.hospital === index)
  const probeStart = performance.now()
  const probe = mine === undefined ? 0 : await timedGet(ctx, mine, ctx.requestTimeoutMs)
  const detected = earliest(
    probe === undefined ? performance.now() : undefined,
    probe !== undefined && probe > 3 * ctx.baselineMs ? probeStart + 3 * ctx.baselineMs : undefined,
    ctx.observer.firstPeerEvent('disconnect', h.peerId, t0),
    firstSeen(ctx, t0, 3 * ctx.baselineMs, e => e.hospital === index || e.kind === 'query'),
    firstEffect(ctx, t0, e => e.partial?.includes(h.peerId) ?? false))
  const restored = await until(async () => await replicatedWithout(ctx, h.peerId), ctx.recoverTimeoutMs, 500)
  await sleep(Math.max(0, ctx.holdMs - (performance.now() - t0)))
  ctx.log(`kill ${h.name}: replication ${restored === undefined ? 'NOT restored' : 'restored'}`)
  return { fault: 'kill hospital', target: h.name, note: 'recovered = replication factor restored without it', detectMs: ms(detected, t0), recoverMs: ms(restored, t0), ...tally(ctx, t0, restored ?? performance.now()) }
}

/** Restarts a killed hospital from its data; recovered when it is found, resolvable and serving again. */
export async function restartHospital (ctx: FaultContext, index: number): Promise<FaultReport> {
  const h = ctx.fed.hospitals[index]
  if (h === undefined) throw new RangeError('no such hospital')
  const t0 = performance.now()
  await ctx.fed.restart(index)
  const mine = ctx.images.filter(i => i.hospital === index)
  const back = await until(async () => {
    for (const image of mine) {
      await withDeadline(ctx.requestTimeoutMs, async signal => await ctx.fed.requester.localization.resolveLfn(image.lfn, { fresh: true, signal }))
      if (await timedGet(ctx, image, 2 * ctx.requestTimeoutMs) === undefined) return false
    }
    return true
  }, ctx.recoverTimeoutMs, 500)
  const detected = ctx.observer.firstPeerEvent('connect', h.peerId, t0)
  ctx.log(`restart ${h.name}: ${back === undefined ? 'NOT serving' : 'serving again'}`)
  return { fault: 'restart hospital', target: h.name, note: 'detected = requester reconnected; recovered = its images served', detectMs: ms(detected, t0), recoverMs: ms(back, t0), ...tally(ctx, t0, back ?? performance.now()) }
}

/** Splits the sites into two groups for a while, then heals; recovered when the whole federation checks out. */
export async function partition (ctx: FaultContext, groups: number[][]): Promise<FaultReport> {
  const names = groups.map(g => g.map(s => s === 0 ? 'requester' : ctx.fed.hospitals[s - 1]?.name ?? '?').join('+')).join(' | ')
  const away = groups.find(g => !g.includes(0)) ?? []
  const cut = new Set(away.map(s => ctx.fed.hospitals[s - 1]?.peerId))
  const t0 = performance.now()
  await ctx.fed.network.partition(groups)
  // Held longer than a request's deadline: what a client meets is a timeout, not a refusal.
  await sleep(ctx.holdMs + ctx.requestTimeoutMs)
  const detected = earliest(
    firstSeen(ctx, t0, 3 * ctx.baselineMs, e => e.kind === 'query' || away.includes((e.hospital ?? -2) + 1)),
    firstEffect(ctx, t0, e => e.partial?.some(p => cut.has(p)) ?? false),
    ...[...cut].map(p => p === undefined ? undefined : ctx.observer.firstPeerEvent('disconnect', p, t0)))
  const healedAt = performance.now()
  await ctx.fed.network.heal()
  const whole = await until(async () => (await federationHealth(ctx.fed, ctx.images, ctx.factor, ctx.scratch, 2 * ctx.requestTimeoutMs)).ok, ctx.recoverTimeoutMs, 500)
  ctx.log(`partition ${names}: ${whole === undefined ? 'NOT healed' : 'healed'}`)
  return { fault: 'partition', target: names, note: `held ${Math.round((healedAt - t0) / 1000)} s; recovered from the heal`, detectMs: ms(detected, t0), recoverMs: ms(whole, healedAt), ...tally(ctx, t0, whole ?? performance.now()) }
}

/** A slowed link is held this much longer than the time that counts as slow. */
const SLOW_LINK_MARGIN_MS = 1_000

/** Slows one hospital's access link (bandwidth ÷ 50, +80 ms each way) for a while; recovered when its image comes as fast as before. */
export async function slowLink (ctx: FaultContext, index: number): Promise<FaultReport> {
  const h = ctx.fed.hospitals[index]
  if (h === undefined) throw new RangeError('no such hospital')
  const before = await ctx.fed.network.link(h.site)
  const mine = ctx.images.filter(i => i.hospital === index)
  // How long this image takes now, under the same load: the yardstick of "slow" and of "normal again".
  const usual: number[] = []
  for (let i = 0; i < 3; i++) usual.push(await timedGet(ctx, mine[0] as ProbeImage, 2 * ctx.requestTimeoutMs) ?? ctx.requestTimeoutMs)
  const normalMs = usual.sort((a, b) => a - b)[1] as number
  const t0 = performance.now()
  await ctx.fed.network.setLink(h.site, { bitsPerSecond: before.bitsPerSecond / 50, latencyMs: (before.latencyMs ?? 0) + 80 })
  const slow = Math.max(2 * ctx.baselineMs, 2 * normalMs)
  // Held until a request could be seen taking `slow`: on a loaded machine "normal" is long, and a
  // shorter hold would end every slowed request before it could look slow.
  const holdMs = Math.max(ctx.holdMs, slow + SLOW_LINK_MARGIN_MS)
  // A request of our own while the link is slow, so the effect is seen even if the load's random picks miss this hospital.
  const probe = timedGet(ctx, mine[0] as ProbeImage, holdMs + 10_000)
  await sleep(holdMs)
  const restoredAt = performance.now()
  await ctx.fed.network.setLink(h.site, before)
  const probeMs = await probe
  const detected = earliest(
    firstSeen(ctx, t0, slow, e => e.hospital === index),
    probeMs === undefined || probeMs > slow ? t0 + Math.min(probeMs ?? slow, slow) : undefined,
    ctx.observer.firstDrop(h.peerId, 'stalled', t0))
  const normal = await until(async () => ((await timedGet(ctx, mine[0] as ProbeImage)) ?? Infinity) < 1.5 * normalMs + 100, ctx.recoverTimeoutMs, 300)
  ctx.log(`slow link ${h.name}: ${normal === undefined ? 'still slow' : 'back to normal'}`)
  return { fault: 'slow link', target: `${h.name} (÷50, +80 ms)`, note: `held ${Math.round((restoredAt - t0) / 1000)} s; recovered from the repair`, detectMs: ms(detected, t0), recoverMs: ms(normal, restoredAt), ...tally(ctx, t0, normal ?? performance.now()) }
}

/**
 * Flips bytes in every replica chunk a hospital holds. Detected when a
 * transfer drops it as corrupt; if the requests of a few seconds never drew
 * chunks from it, a scrub (reading its copy alone, as a replica audit would)
 * finds it. Recovered when an image it holds comes back correct.
 */
export async function corruptReplicas (ctx: FaultContext, index: number, replicated: ProbeImage[]): Promise<FaultReport> {
  const h = ctx.fed.hospitals[index]
  if (h === undefined) throw new RangeError('no such hospital')
  const t0 = performance.now()
  const { files } = await h.handle.call('corruptReplicas')
  const seen = (): number | undefined => ctx.observer.firstDrop(h.peerId, 'corrupt', t0)
  const byTransfer = performance.now() + ctx.holdMs
  let by = 'a transfer'
  while (seen() === undefined && replicated.length > 0) {
    if (performance.now() > byTransfer) {
      by = 'a scrub'
      for (const image of replicated) await scrub(ctx, image, h.peerId)
      break
    }
    for (const image of replicated) {
      await timedGet(ctx, image)
      if (seen() !== undefined) break
    }
  }
  const detected = seen()
  const corrected = detected === undefined ? undefined : await until(async () => (await timedGet(ctx, replicated[0] as ProbeImage)) !== undefined, ctx.recoverTimeoutMs)
  ctx.log(`corrupt ${files} replica chunk file(s) at ${h.name}: ${detected === undefined ? 'never noticed' : `noticed by ${by}`}`)
  return { fault: 'corrupt chunks', target: `${h.name} (${files} files)`, note: `detected by ${by}`, detectMs: ms(detected, t0), recoverMs: ms(corrected, t0), ...tally(ctx, t0, corrected ?? performance.now()) }
}

/** Reads an image's chunks from one holder only, checking each (the chunk service verifies hashes). */
async function scrub (ctx: FaultContext, image: ProbeImage, holder: string): Promise<void> {
  const node = ctx.fed.requester
  const h = ctx.fed.hospitals[image.hospital]
  const master = h === undefined ? undefined : peerIdFromString(h.peerId)
  const chain = master === undefined ? undefined : ctx.fed.wallet().chainFor(master.publicKey?.raw ?? new Uint8Array(), 'image/read')
  if (master === undefined || chain === undefined) return
  const wallet = ctx.fed.wallet()
  const self = node.peerId.toString()
  const auth = (audience: string, command: string, args: Uint8Array): Uint8Array => wallet.authorization(chain, { audience, origin: self, command, args })
  await withDeadline(ctx.requestTimeoutMs, async signal => {
    const prepared = await node.libp2p.services.image.prepare(master, { lfn: image.lfn, auth: auth(master.toString(), 'image/prepare', imageArguments(image.lfn)) }, { signal })
    const manifest = await verifySignedManifest(prepared.manifest, { expectedMaster: master.toString() })
    const cid = Buffer.from(manifest.merkleRoot).toString('hex')
    await node.libp2p.services.chunks.fetch({
      contentId: manifest.merkleRoot,
      chunks: manifest.chunks.map((c, i) => ({ index: i, id: c.id })),
      sources: [peerIdFromString(holder)],
      sink: { has: async () => false, put: async () => {} },
      auth: async p => auth(p.toString(), 'chunks/get', chunkArguments(cid)),
      signal
    })
  }).catch(() => {})
}
