/**
 * DHT figures of a six-hospital federation on loopback, in one process:
 * provide and findProviders latency (median, p95) for fresh content ids, each
 * provided by one hospital and looked up from another; findPeer as a bonus.
 */
import '../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { waitForRoutingTables } from '../src/node/discovery.js'
import { startLocalFederation } from '../src/node/local-federation.js'
import { printResult, printTable, round, summarize } from './lib/report.js'

const HOSPITALS = 6
const ROUNDS = Number(process.env.BENCH_DHT_ROUNDS ?? 60)

const root = await mkdtemp(join(tmpdir(), 'dm2-bench-dht-'))
const fed = await startLocalFederation({ root, hospitals: HOSPITALS })
try {
  if (!await waitForRoutingTables(fed.nodes)) throw new Error('the DHT did not form')
  const provide: number[] = []
  const find: number[] = []
  const findPeer: number[] = []
  let misses = 0
  for (let i = 0; i < ROUNDS; i++) {
    const from = fed.nodes[i % HOSPITALS]!
    const to = fed.nodes[(i + 1 + (i % (HOSPITALS - 1))) % HOSPITALS]!
    const cid = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(`bench-${i}-${Date.now()}`)))
    let t = performance.now()
    await from.libp2p.contentRouting.provide(cid, { signal: AbortSignal.timeout(10_000) })
    provide.push(performance.now() - t)
    t = performance.now()
    let found = false
    for await (const p of to.libp2p.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(10_000) })) {
      if (p.id.equals(from.peerId)) { found = true; break }
    }
    if (found) find.push(performance.now() - t)
    else misses++
    t = performance.now()
    await to.libp2p.peerRouting.findPeer(from.peerId, { useCache: false, signal: AbortSignal.timeout(10_000) })
    findPeer.push(performance.now() - t)
  }
  const rows = [
    { operation: 'provide', ...summarize(provide) },
    { operation: 'findProviders', ...summarize(find) },
    { operation: 'findPeer (network)', ...summarize(findPeer) }
  ].map(r => ({ operation: r.operation, n: r.n, median_ms: r.median, p95_ms: r.p95, min_ms: r.min, max_ms: r.max }))
  printTable(`DHT on ${HOSPITALS} hospitals, loopback TCP, ${ROUNDS} rounds (ms)`, rows)
  const p = summarize(provide)
  const f = summarize(find)
  const fp = summarize(findPeer)
  printResult({
    bench: 'dht',
    hospitals: HOSPITALS,
    rounds: ROUNDS,
    provide_median_ms: round(p.median),
    provide_p95_ms: round(p.p95),
    findProviders_median_ms: round(f.median),
    findProviders_p95_ms: round(f.p95),
    findProviders_misses: misses,
    findPeer_median_ms: round(fp.median),
    findPeer_p95_ms: round(fp.p95)
  })
} finally {
  await fed.stop()
  await rm(root, { recursive: true, force: true })
}
