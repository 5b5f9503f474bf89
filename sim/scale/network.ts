/**
 * One measured network: N hospital nodes spread over worker processes, dialled
 * into a connected graph, left to settle their routing tables, LFNs published,
 * then the plan's lookups run one at a time (latency, not throughput), then
 * memory sampled. Every worker is stopped whatever happens.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import PQueue from 'p-queue'
import { BOOTSTRAP_DEGREE, CALM_LOOP_DELAY_MS, CALM_TIMEOUT_MS, DIAL_WAVE_GAP_MS, DIAL_WAVE_SIZE, OBJECTS, PUBLISH_CONCURRENCY, SETTLE_QUIET_MS, SETTLE_TIMEOUT_MS } from './constants.js'
import { Cluster } from './cluster.js'
import { makePlan, type LookupSpec, type ScalePlan } from './plan.js'
import type { LookupResult, MemorySample, NodeStats } from './protocol.js'

export interface NetworkInit {
  nodes: number
  seed: number
  workers: number
  lookupsPerKind: number
  /** Folder for the nodes' data directories (the caller removes it). */
  root: string
  /** Progress lines (to stderr). */
  progress?: (line: string) => void
}

export interface MeasuredLookup extends LookupSpec, LookupResult {}

export interface NetworkResult {
  nodes: number
  workers: number
  startMs: number
  settleMs: number
  /** Whether the routing tables were quiet (and not empty) before the timeout. */
  settled: boolean
  routingTableMin: number
  routingTableMedian: number
  connectionsMedian: number
  /** Worst worker's p99 event-loop delay during the lookups, ms (CPU starvation shows here). */
  loopDelayP99Ms: number
  publishMs: number[]
  publishErrors: string[]
  lookups: MeasuredLookup[]
  /** Per worker, before any node started and after the lookups. */
  baseline: MemorySample[]
  memory: MemorySample[]
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN

async function stats (cluster: Cluster): Promise<NodeStats> {
  const all = await Promise.all(cluster.workers.map(async w => await w.call({ op: 'stats' })))
  return { routingTable: all.flatMap(s => s.routingTable), connections: all.flatMap(s => s.connections), loopDelayP99Ms: Math.max(...all.map(s => s.loopDelayP99Ms)) }
}

/**
 * Waits until no routing table changed for a while (kad-dht's first self
 * query and table refresh are done) and each holds at least the peers it
 * dialled.
 */
async function settle (cluster: Cluster, n: number): Promise<{ settled: boolean, last: NodeStats }> {
  const want = Math.min(n - 1, BOOTSTRAP_DEGREE)
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  let last = await stats(cluster)
  let quietSince = Date.now()
  while (Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 250))
    const now = await stats(cluster)
    if (now.routingTable.some((v, i) => v !== last.routingTable[i])) quietSince = Date.now()
    last = now
    if (Math.min(...now.routingTable) >= want && Date.now() - quietSince >= SETTLE_QUIET_MS) return { settled: true, last }
  }
  return { settled: false, last }
}

/**
 * Waits at least DIAL_WAVE_GAP_MS, then until the workers keep up again (event
 * loops answering within CALM_LOOP_DELAY_MS): a wave's handshakes and self
 * queries done. On a busy machine this paces the waves instead of letting
 * handshakes miss libp2p's upgrade timeouts.
 */
async function calm (cluster: Cluster): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, DIAL_WAVE_GAP_MS))
  const deadline = Date.now() + CALM_TIMEOUT_MS
  await stats(cluster)
  while (Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 500))
    if ((await stats(cluster)).loopDelayP99Ms < CALM_LOOP_DELAY_MS) return
  }
}

async function peerIds (plan: ScalePlan): Promise<string[]> {
  return await Promise.all(plan.nodes.map(async n => peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', n.keySeed)).toString()))
}

export async function measureNetwork (init: NetworkInit): Promise<NetworkResult> {
  const t0 = performance.now()
  const progress = (line: string): void => { init.progress?.(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`) }
  const plan = makePlan({ nodes: init.nodes, seed: init.seed, workers: init.workers, lookupsPerKind: init.lookupsPerKind, objects: OBJECTS, bootstrapDegree: BOOTSTRAP_DEGREE })
  const ids = await peerIds(plan)
  const workers = Math.min(init.workers, init.nodes)
  const cluster = await Cluster.spawn(workers)
  try {
    const started = performance.now()
    const starts = await Promise.all(cluster.workers.map(async w => {
      const root = join(init.root, `worker-${w.index}`)
      await mkdir(root, { recursive: true })
      const nodes = plan.nodes.filter(n => n.worker === w.index).map(n => ({ index: n.index, name: n.name, keySeed: Buffer.from(n.keySeed).toString('hex') }))
      return await w.call({ op: 'start', root, members: ids, nodes })
    }))
    const addrs: Record<number, string> = Object.assign({}, ...starts.map(s => s.addrs))
    const startMs = performance.now() - started
    progress(`${init.nodes} nodes started in ${(startMs / 1000).toFixed(1)} s over ${workers} workers`)

    // Nodes join in waves, as sites of a federation come up over time: all N
    // joining at once would start N self-queries and table refreshes together
    // and time them out on a 2-core machine.
    const dialed: Array<{ failed: number, errors: string[] }> = []
    for (let first = 0; first < init.nodes; first += DIAL_WAVE_SIZE) {
      const wave = plan.nodes.slice(first, first + DIAL_WAVE_SIZE)
      dialed.push(...await Promise.all(cluster.workers.map(async w => await w.call({
        op: 'dial',
        dials: wave.filter(n => n.worker === w.index).flatMap(n => (plan.dials[n.index] ?? []).map(j => ({ from: n.index, addr: addrs[j] ?? '' })))
      }))))
      if (first + DIAL_WAVE_SIZE < init.nodes) await calm(cluster)
    }
    const failedDials = dialed.reduce((a, d) => a + d.failed, 0)
    if (failedDials > 0) progress(`${failedDials} start-up dials failed (${dialed.flatMap(d => d.errors).slice(0, 3).join('; ')})`)

    const settleStarted = performance.now()
    const { settled, last } = await settle(cluster, init.nodes)
    const settleMs = performance.now() - settleStarted
    progress(`routing tables ${settled ? 'settled' : 'NOT settled'} in ${(settleMs / 1000).toFixed(1)} s (min ${Math.min(...last.routingTable)} peers, median ${median(last.routingTable)}; event-loop delay p99 ${last.loopDelayP99Ms.toFixed(0)} ms)`)

    const queue = new PQueue({ concurrency: PUBLISH_CONCURRENCY })
    // A failed publication is counted, not fatal: its lookups then fail and show in the result.
    const publishErrors: string[] = []
    const published = await Promise.all(plan.objects.map(async o => await queue.add(async () => {
      try {
        const r = await cluster.worker(plan.nodes[o.publisher]?.worker ?? 0).call({ op: 'publish', lfn: o.lfn, publisher: o.publisher })
        return r.ms
      } catch (err) {
        publishErrors.push(`${o.lfn}: ${(err as Error).message}`)
        return undefined
      }
    })))
    const publishMs = published.flatMap(ms => ms === undefined ? [] : [ms])
    progress(`${publishMs.length} of ${plan.objects.length} LFNs published (records and provider records)${publishErrors.length > 0 ? `; ${publishErrors[0] ?? ''}` : ''}`)

    await stats(cluster) // restarts the event-loop delay histograms: the next sample covers the lookups only
    const lookups: MeasuredLookup[] = []
    for (const spec of plan.lookups) {
      const object = plan.objects[spec.target]
      const request = spec.kind === 'findPeer'
        ? { kind: spec.kind, from: spec.from, peer: ids[spec.target] }
        : { kind: spec.kind, from: spec.from, lfn: object?.lfn, publisher: ids[object?.publisher ?? -1] }
      const result = await cluster.worker(plan.nodes[spec.from]?.worker ?? 0).call({ op: 'lookup', lookup: request })
      lookups.push({ ...spec, ...result })
    }
    const failed = lookups.filter(l => !l.ok).length
    const after = await stats(cluster)
    progress(`${lookups.length} lookups done, ${failed} failed (event-loop delay p99 ${after.loopDelayP99Ms.toFixed(0)} ms)`)

    const memory = await Promise.all(cluster.workers.map(async w => await w.call({ op: 'memory' })))
    return {
      nodes: init.nodes,
      workers,
      startMs,
      settleMs,
      settled,
      routingTableMin: Math.min(...last.routingTable),
      routingTableMedian: median(last.routingTable),
      connectionsMedian: median(after.connections),
      loopDelayP99Ms: after.loopDelayP99Ms,
      publishMs,
      publishErrors,
      lookups,
      baseline: starts.map(s => s.baseline),
      memory
    }
  } finally {
    await cluster.stop()
  }
}
