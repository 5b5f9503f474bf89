/**
 * Transfer throughput between nodes in separate processes on loopback: our
 * chunk protocol (hash-checked, multi-source) against a bare libp2p stream of
 * the same bytes (the ceiling for this transport) and raw TCP; then the
 * speed-up of fetching from 1, 2 and 4 sources at once.
 *
 * The machine is shared and its load drifts, so the bare stream and the
 * chunk protocol run in pairs, back to back, in alternating order, and
 * `ratio` is the median over the pairs of chunk protocol MB/s (one source) ÷
 * bare libp2p stream MB/s. Medians and bests of each are printed too.
 */
import '../src/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { noise } from '@chainsafe/libp2p-noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { streamMuxer } from '../src/node/libp2p.js'
import { chunkTransfer } from '../src/protocols/chunks/index.js'
import { byteLengthOf } from '../src/codec/pieces.js'
import { printResult, printTable, round, summarize } from './lib/report.js'

const MIB = Number(process.env.BENCH_TRANSFER_MIB ?? 256)
const RUNS = Number(process.env.BENCH_TRANSFER_RUNS ?? 9)
const BARE_PROTOCOL = '/dm2-bench/bare/1.0.0'
const serverScript = fileURLToPath(new URL('./lib/transfer-server.ts', import.meta.url))

interface ServerInfo { addr: string, tcpPort: number, contentId: string, chunks: string[], child: ChildProcess }

async function startServer (): Promise<ServerInfo> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverScript, String(MIB)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.on('exit', code => { reject(new Error(`server exited ${code}`)) })
  })
  return { ...JSON.parse(line), child }
}

const servers: ServerInfo[] = []
const client = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [streamMuxer()],
  services: { chunks: chunkTransfer({ store: { has: async () => false, read: async () => undefined }, authorize: async () => ({ allow: false, reason: 'CLIENT' }) }) }
})

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000)
const best = (xs: number[]): number => Math.max(...xs)
const median = (xs: number[]): number => summarize(xs).median

async function rawTcp (port: number): Promise<number> {
  const t = performance.now()
  let bytes = 0
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.on('data', (d: Buffer) => { bytes += d.byteLength })
    s.on('end', resolve)
    s.on('error', reject)
  })
  if (bytes !== MIB * 1024 * 1024) throw new Error('short TCP read')
  return mbps(bytes, performance.now() - t)
}

async function bare (server: ServerInfo): Promise<number> {
  const t = performance.now()
  const stream = await client.dialProtocol(multiaddr(server.addr), BARE_PROTOCOL)
  let bytes = 0
  for await (const chunk of stream) bytes += chunk.byteLength
  if (bytes !== MIB * 1024 * 1024) throw new Error('short libp2p read')
  return mbps(bytes, performance.now() - t)
}

async function chunks (sources: ServerInfo[]): Promise<{ mbps: number, perSource: number[] }> {
  const first = sources[0] as ServerInfo
  const refs = first.chunks.map((h, index) => ({ index, id: new Uint8Array(Buffer.from(h, 'hex')) }))
  let bytes = 0
  const t = performance.now()
  const result = await client.services.chunks.fetch({
    contentId: new Uint8Array(Buffer.from(first.contentId, 'hex')),
    chunks: refs,
    sources: sources.map(s => peerIdFromString(s.addr.slice(s.addr.lastIndexOf('/p2p/') + 5))),
    sink: { has: async () => false, put: async (_i, b) => { bytes += byteLengthOf(b) } },
    auth: async () => new Uint8Array(0)
  })
  if (bytes !== MIB * 1024 * 1024) throw new Error('short chunk fetch')
  return { mbps: mbps(bytes, performance.now() - t), perSource: result.sources.map(s => s.chunks) }
}

try {
  for (let i = 0; i < 4; i++) servers.push(await startServer())
  for (const s of servers) await client.dial(multiaddr(s.addr))
  const s0 = servers[0] as ServerInfo
  const tcpRuns: number[] = []
  const bareRuns: number[] = []
  const oursRuns: number[] = []
  const pairs: number[] = []
  for (let r = 0; r < RUNS; r++) {
    tcpRuns.push(await rawTcp(s0.tcpPort))
    if (r % 2 === 0) {
      bareRuns.push(await bare(s0))
      oursRuns.push((await chunks([s0])).mbps)
    } else {
      oursRuns.push((await chunks([s0])).mbps)
      bareRuns.push(await bare(s0))
    }
    pairs.push((oursRuns.at(-1) ?? NaN) / (bareRuns.at(-1) ?? NaN))
  }
  const multi: Array<{ sources: number, mbps: number, perSource: number[] }> = []
  for (const n of [1, 2, 4]) {
    const runs = []
    for (let r = 0; r < Math.min(RUNS, 3); r++) runs.push(await chunks(servers.slice(0, n)))
    const top = runs.reduce((a, b) => (b.mbps > a.mbps ? b : a))
    multi.push({ sources: n, mbps: top.mbps, perSource: top.perSource })
  }
  const tcpBest = best(tcpRuns)
  const bareBest = best(bareRuns)
  const oursBest = best(oursRuns)
  const bareMedian = median(bareRuns)
  const oursMedian = median(oursRuns)
  printTable(`${MIB} MiB between processes on loopback (${RUNS} runs each, MB/s)`, [
    { path: 'raw TCP', median: median(tcpRuns), best: tcpBest, vs_bare_libp2p: median(tcpRuns) / bareMedian },
    { path: 'bare libp2p stream (noise+yamux)', median: bareMedian, best: bareBest, vs_bare_libp2p: 1 },
    { path: '/dm2/chunks/1.0.0, 1 source', median: oursMedian, best: oursBest, vs_bare_libp2p: oursMedian / bareMedian }
  ])
  printTable('chunk protocol ÷ bare stream, pair by pair', pairs.map((ratio, run) => ({ run, ratio })))
  const one = multi[0]?.mbps ?? NaN
  printTable('multi-source fetch (chunks per source in the best run)', multi.map(m => ({
    sources: m.sources, mbps: m.mbps, speedup: m.mbps / one, chunks_per_source: m.perSource.join('/')
  })))
  printResult({
    bench: 'transfer',
    mib: MIB,
    runs: RUNS,
    raw_tcp_mbps: round(median(tcpRuns), 1),
    bare_libp2p_mbps: round(bareMedian, 1),
    chunks_mbps: round(oursMedian, 1),
    bare_libp2p_best_mbps: round(bareBest, 1),
    chunks_best_mbps: round(oursBest, 1),
    ratio_of_bests: round(oursBest / bareBest),
    ratio_pairs: pairs.map(r => round(r)),
    ratio_vs_raw_tcp: round(oursMedian / median(tcpRuns)),
    speedup_2_sources: round((multi[1]?.mbps ?? NaN) / one),
    speedup_4_sources: round((multi[2]?.mbps ?? NaN) / one),
    ratio: round(median(pairs))
  })
} finally {
  for (const s of servers) s.child.kill('SIGTERM')
  await client.stop()
}
