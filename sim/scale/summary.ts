/**
 * From measured networks to the scenario's rows and chart (pure).
 * Latencies are nearest-rank percentiles over the successful lookups;
 * memory per node is the workers' total RSS divided by the nodes they host
 * (and, "marginal", the RSS they gained by starting nodes, divided likewise).
 */
import { round, summarize } from '../../bench/lib/report.js'
import { PALETTE, type Chart, type Row } from '../lib/output.js'
import type { NetworkResult } from './network.js'
import { LOOKUP_KINDS, type LookupKind } from './plan.js'

const MIB = 2 ** 20

export interface KindSummary {
  kind: LookupKind
  lookups: number
  failed: number
  medianMs: number
  p95Ms: number
  hopsMean: number
  hopsMax: number
  contactedMean: number
  askedMean: number
  /** getLfn only: until kad-dht's get returned. */
  doneMedianMs?: number
}

const mean = (xs: number[]): number => xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length

export function summarizeKind (net: NetworkResult, kind: LookupKind): KindSummary {
  const all = net.lookups.filter(l => l.kind === kind)
  const ok = all.filter(l => l.ok)
  const ms = summarize(ok.map(l => l.ms))
  const done = ok.flatMap(l => l.doneMs === undefined ? [] : [l.doneMs])
  return {
    kind,
    lookups: all.length,
    failed: all.length - ok.length,
    medianMs: round(ms.median, 2),
    p95Ms: round(ms.p95, 2),
    hopsMean: round(mean(ok.map(l => l.hops)), 2),
    hopsMax: Math.max(0, ...ok.map(l => l.hops)),
    contactedMean: round(mean(ok.map(l => l.contacted)), 1),
    askedMean: round(mean(ok.map(l => l.asked)), 1),
    ...(done.length === 0 ? {} : { doneMedianMs: round(summarize(done).median, 2) })
  }
}

/** One table row per network size. */
export function networkRow (net: NetworkResult): Row {
  const ok = net.lookups.filter(l => l.ok)
  const ms = summarize(ok.map(l => l.ms))
  const kinds = Object.fromEntries(LOOKUP_KINDS.map(k => [k, summarizeKind(net, k)])) as Record<LookupKind, KindSummary>
  const rss = net.memory.reduce((a, m) => a + m.rssBytes, 0)
  const rssBase = net.baseline.reduce((a, m) => a + m.rssBytes, 0)
  const heap = net.memory.reduce((a, m) => a + m.heapUsedBytes, 0)
  return {
    nodes: net.nodes,
    lookups: net.lookups.length,
    failed: net.lookups.length - ok.length,
    lookupMedianMs: round(ms.median, 2),
    lookupP95Ms: round(ms.p95, 2),
    hops: round(mean(ok.map(l => l.hops)), 2),
    hopsMax: Math.max(0, ...ok.map(l => l.hops)),
    contacted: round(mean(ok.map(l => l.contacted)), 1),
    asked: round(mean(ok.map(l => l.asked)), 1),
    findPeerMedianMs: kinds.findPeer.medianMs,
    findProvidersMedianMs: kinds.findProviders.medianMs,
    getLfnMedianMs: kinds.getLfn.medianMs,
    getLfnDoneMedianMs: kinds.getLfn.doneMedianMs ?? NaN,
    rssPerNodeMiB: round(rss / net.nodes / MIB, 2),
    rssMarginalPerNodeMiB: round((rss - rssBase) / net.nodes / MIB, 2),
    heapPerNodeMiB: round(heap / net.nodes / MIB, 2),
    routingTableMin: net.routingTableMin,
    connectionsMedian: net.connectionsMedian,
    loopDelayP99Ms: round(net.loopDelayP99Ms, 1),
    settled: net.settled,
    startS: round(net.startMs / 1000, 1),
    settleS: round(net.settleMs / 1000, 1)
  }
}

/** Per-kind detail for the JSON result. */
export function networkDetail (net: NetworkResult): Record<string, unknown> {
  return {
    nodes: net.nodes,
    workers: net.workers,
    kinds: LOOKUP_KINDS.map(k => summarizeKind(net, k)),
    publishMedianMs: round(summarize(net.publishMs).median, 2),
    publishErrors: net.publishErrors,
    routingTableMedian: net.routingTableMedian,
    memory: net.memory.map((m, i) => ({ worker: i, nodes: m.nodes, rssMiB: round(m.rssBytes / MIB, 1), baselineRssMiB: round((net.baseline[i]?.rssBytes ?? NaN) / MIB, 1), heapUsedMiB: round(m.heapUsedBytes / MIB, 1) })),
    failures: net.lookups.filter(l => !l.ok).map(l => ({ kind: l.kind, from: l.from, target: l.target, error: l.error ?? '' }))
  }
}

/** Lookup latency against network size: median (solid) and p95 (dashed) per kind. */
export function latencyChart (nets: NetworkResult[]): Chart {
  const series = LOOKUP_KINDS.flatMap((kind, i) => {
    const s = nets.map(n => ({ n: n.nodes, k: summarizeKind(n, kind) }))
    const color = PALETTE[i]
    return [
      { name: `${kind} median`, color, points: s.map(({ n, k }): [number, number] => [n, k.medianMs]) },
      { name: `${kind} p95`, color, points: s.map(({ n, k }): [number, number] => [n, k.p95Ms]), dashed: true }
    ]
  })
  return { title: 'DHT lookup latency vs network size (time to first verified answer)', xLabel: 'hospital nodes', yLabel: 'latency (ms)', series }
}

/** The table's columns (the JSON keeps every field). */
export const TABLE_COLUMNS = [
  'nodes', 'lookups', 'failed', 'lookupMedianMs', 'lookupP95Ms', 'hops', 'hopsMax', 'asked',
  'findPeerMedianMs', 'findProvidersMedianMs', 'getLfnMedianMs', 'getLfnDoneMedianMs', 'rssPerNodeMiB', 'rssMarginalPerNodeMiB', 'routingTableMin', 'loopDelayP99Ms'
]
