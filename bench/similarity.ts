/**
 * Similarity ranking figures (DM² issue 8).
 *
 * 1. One site, in process: per-candidate scoring throughput of the ranking
 *    engine (10,000 candidates, 32³ thumbnails, every candidate scored) for
 *    NCC, NMI and CR, next to a plain loop computing the same measure over
 *    the same arrays (the ceiling), and top-10 latency of one engine call.
 * 2. Six real hospital nodes on loopback, one process each (hospital 1 in
 *    this one), 10,000 series spread over their
 *    feature indexes (features synthesized into the index, no DICOM ingest):
 *    - per-site scoring throughput through a site's own path (index walk,
 *      coverage of the chain, comparability, decoded features from memory,
 *      the engine; batches of 200 so every candidate is scored) next to the
 *      plain loop over the same site's arrays;
 *    - top-10 latency of a federated query through `/dm2/similarity/1.0.0`
 *      (Dm2Client.similar at hospital 1: one invocation per site, six sites
 *      ranking, merge), per measure.
 * `ratio` = per-site candidates/s through the site path ÷ plain loop, NCC
 * (goal ≥ 0.8); top-10 over 10,000 series: goal under 1 s.
 */
import '../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chainCoverage, rankSite } from '../src/protocols/similarity/index.js'
import {
  PREFILTER_MIN, Ranker, decodeFeatures, encodeFeatures, extractFeatures, type Features, type MeasureName, type RankCandidate
} from '../src/similarity/index.js'
import { printResult, printTable, round, summarize } from './lib/report.js'
import { BENCH_BASES, BENCH_THUMBNAIL, benchBases, benchSeries, candidateOf, plainLoops, xorshift } from './lib/similarity-data.js'
import { startBenchFederation } from './lib/similarity-federation.js'

const CANDIDATES = Number(process.env.BENCH_SIMILARITY_CANDIDATES ?? 10_000)
const ROUNDS = Number(process.env.BENCH_SIMILARITY_ROUNDS ?? 3)
/** The per-site scans are 6 times shorter: more rounds for a steadier median on a busy machine. */
const SITE_ROUNDS = Number(process.env.BENCH_SIMILARITY_SITE_ROUNDS ?? 5)
const LATENCY_QUERIES = Number(process.env.BENCH_SIMILARITY_QUERIES ?? 5)
const SITES = Number(process.env.BENCH_SIMILARITY_SITES ?? 6)
const BASES = BENCH_BASES
const SIZE = BENCH_THUMBNAIL
const BINS = 16
const TOP = 10
const MEASURES: MeasureName[] = ['ncc', 'nmi', 'cr']

/**
 * Candidates per second of each scan, rounds interleaved (plain, kernel,
 * engine, plain, …) so that load from other processes hits them alike;
 * one warm-up scan each, then the median of `rounds`.
 */
async function throughputs (count: number, rounds: number, scans: Array<() => unknown>): Promise<Array<{ rate: number, ms: number }>> {
  for (const scan of scans) await scan()
  const times: number[][] = scans.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [k, scan] of scans.entries()) {
      const t0 = performance.now()
      await scan()
      times[k]?.push(performance.now() - t0)
    }
  }
  return times.map(ts => {
    const ms = summarize(ts).median
    return { rate: count / (ms / 1000), ms }
  })
}

let t = performance.now()
const bases = benchBases()
const query = candidateOf(bases[3] as Features, 999_999)
const figures: Record<string, Record<string, number>> = {}
const latency: Record<string, number[]> = {}

// The same 10,000 candidates for the engine in process and for the six sites' indexes.
const candidates: RankCandidate[] = Array.from({ length: CANDIDATES }, (_, c) => ({ id: `lfn-${c}`, features: benchSeries(bases, c) }))
const setupMs = performance.now() - t

// --- 1. one site, in process ---
{
  const thumbs = candidates.map(c => c.features.thumbnail)
  const mins = Float64Array.from(candidates, c => c.features.thumbnailMin)
  const maxs = Float64Array.from(candidates, c => c.features.thumbnailMax)
  const out = new Float64Array(CANDIDATES)
  const plain = plainLoops(thumbs, mins, maxs, BINS, out)
  const ranker = new Ranker()
  const rows: Array<Record<string, string | number>> = []
  for (const measure of MEASURES) {
    const [p, engine] = await throughputs(CANDIDATES, ROUNDS, [
      () => { plain[measure](query) },
      () => { ranker.rank(query, candidates, { measure, topK: TOP, bins: BINS, prefilterKeep: Infinity }) }
    ]) as [{ rate: number, ms: number }, { rate: number, ms: number }]
    rows.push({ measure, 'plain loop cand/s': Math.round(p.rate), 'engine cand/s': Math.round(engine.rate), 'engine/plain': engine.rate / p.rate })
    figures[measure] = { plain_per_s: Math.round(p.rate), engine_per_s: Math.round(engine.rate), engine_ratio: round(engine.rate / p.rate) }
  }
  printTable(`In process: scoring ${CANDIDATES} candidates, ${SIZE}³ thumbnails, ${BINS} bins, every candidate scored (median of ${ROUNDS}); setup ${Math.round(setupMs)} ms`, rows)

  const latencyRows: Array<Record<string, string | number>> = []
  for (const measure of MEASURES) {
    const samples: number[] = []
    for (let q = 0; q < LATENCY_QUERIES; q++) {
      const qf = candidateOf(bases[(q * 7) % BASES] as Features, 500_000 + q)
      const t0 = performance.now()
      ranker.rank(qf, candidates, { measure, topK: TOP, bins: BINS })
      samples.push(performance.now() - t0)
    }
    latency[`engine_${measure}`] = samples
    const s = summarize(samples)
    latencyRows.push({ measure, n: s.n, median_ms: s.median, p95_ms: s.p95 })
  }
  printTable(`In process: top-${TOP} of ${CANDIDATES} candidates, one engine call, pre-filter max(10·K, 200) (ms)`, latencyRows)
}

// --- 2. six hospital nodes on loopback ---
const root = await mkdtemp(join(tmpdir(), 'dm2-bench-similarity-'))
const rows: Array<Record<string, string | number>> = []
const fedRows: Array<Record<string, string | number>> = []
t = performance.now()
// Hospital 1 here, hospitals 2…6 in their own processes; each fills its own index.
const bench = await startBenchFederation(root, SITES, CANDIDATES, i => (candidates[i] as RankCandidate).features)
const fillMs = performance.now() - t
try {
  printTable(`${SITES} nodes, one process each: ${CANDIDATES} series put into their feature indexes (encode, LevelDB, decode into memory) in ${Math.round(fillMs)} ms`, bench.sizes.map((series, i) => ({ site: i + 1, series })))

  // Per-site scoring through the site's own path, against the plain loop over the same arrays.
  const index = bench.node.similarity.index
  const siteFeatures = await Promise.all(index.lfns().map(async lfn => await index.features(lfn)))
  const thumbs = siteFeatures.map(f => f.thumbnail)
  const out = new Float64Array(thumbs.length)
  const plain = plainLoops(thumbs, Float64Array.from(siteFeatures, f => f.thumbnailMin), Float64Array.from(siteFeatures, f => f.thumbnailMax), BINS, out)
  const coverage = chainCoverage([(bench.certificates[0] as { bytes: Uint8Array }).bytes])
  const ranker = new Ranker()
  const signal = new AbortController().signal
  for (const measure of MEASURES) {
    let scored = 0
    const [p, path] = await throughputs(thumbs.length, SITE_ROUNDS, [
      () => { plain[measure](query) },
      async () => {
        const r = await rankSite({ query, measure, topK: TOP, requireDiagnosis: false, coverage, candidates: index.candidates(), ranker, batch: PREFILTER_MIN, signal })
        scored = r.counts.ranked
      }
    ]) as [{ rate: number, ms: number }, { rate: number, ms: number }]
    rows.push({ measure, series: thumbs.length, scored, 'plain loop cand/s': Math.round(p.rate), 'site path cand/s': Math.round(path.rate), 'site/plain': path.rate / p.rate })
    Object.assign(figures[measure] as object, { site_plain_per_s: Math.round(p.rate), site_per_s: Math.round(path.rate), site_ratio: round(path.rate / p.rate) })
  }
  printTable(`Per site (hospital 1, ${thumbs.length} series): index walk + coverage + decoded features + engine, every candidate scored (median of ${SITE_ROUNDS})`, rows)

  // Federated top-10, after one warm-up query per measure (connections, compiled kernels). This
  // process and the sites were busy for a long while: a connection found dead is dialled again.
  for (const measure of MEASURES) {
    for (let attempt = 1; ; attempt++) {
      await bench.connect()
      const warm = await bench.client.similar(query, { measure, topK: TOP })
      if (warm.partial.length === 0) break
      if (attempt === 3) throw new Error(`sites did not answer: ${JSON.stringify(warm.partial)}`)
      process.stderr.write(`warm-up ${measure}: ${warm.partial.length} site(s) did not answer (${warm.partial.map(p => p.reason).join(', ')}), again\n`)
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
  }
  for (const measure of MEASURES) {
    const samples: number[] = []
    let sameBase = 0
    for (let q = 0; q < LATENCY_QUERIES; q++) {
      const base = (q * 7 + 1) % BASES
      const qf = candidateOf(bases[base] as Features, 700_000 + q)
      const t0 = performance.now()
      const r = await bench.client.similar(qf, { measure, topK: TOP })
      samples.push(performance.now() - t0)
      if (r.partial.length > 0 || r.results.length !== TOP) throw new Error(`incomplete answer: ${JSON.stringify(r.partial)}`)
      sameBase += r.results.filter(h => Number(h.lfn.slice('bench-'.length)) % BASES === base).length
    }
    latency[`federated_${measure}`] = samples
    const s = summarize(samples)
    fedRows.push({ measure, n: s.n, median_ms: s.median, p95_ms: s.p95, max_ms: s.max, 'hits of the query\'s base': `${sameBase}/${TOP * LATENCY_QUERIES}` })
  }
  printTable(`Federated top-${TOP} over ${CANDIDATES} series on ${SITES} nodes (loopback, /dm2/similarity/1.0.0, from hospital 1) (ms)`, fedRows)
} finally {
  await bench.stop()
  await rm(root, { recursive: true, force: true })
}

// --- ingest costs ---
const big = new Int16Array(256 * 256 * 200)
{
  const r = xorshift(5)
  for (let i = 0; i < big.length; i++) big[i] = ((i >> 8) & 255) > 40 && ((i >> 8) & 255) < 210 && (i & 255) > 30 && (i & 255) < 220 ? 40 + Math.round((r() - 0.5) * 60) : -1000
}
const extractMs: number[] = []
for (let r = 0; r < 3; r++) {
  t = performance.now()
  extractFeatures({ data: big, dims: [256, 256, 200], affine: [0.7, 0, 0, 0, 0, 0.7, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 1], modality: 'CT' })
  extractMs.push(performance.now() - t)
}
const encodeMs: number[] = []
const decodeMs: number[] = []
let encodedBytes = 0
for (let r = 0; r < 20; r++) {
  t = performance.now()
  const bytes = encodeFeatures(query)
  encodeMs.push(performance.now() - t)
  encodedBytes = bytes.length
  t = performance.now()
  decodeFeatures(bytes)
  decodeMs.push(performance.now() - t)
}
printTable('Ingest (ms)', [
  { step: 'extract 256×256×200 int16 CT → 32³', median_ms: summarize(extractMs).median },
  { step: `encode (${encodedBytes} bytes)`, median_ms: summarize(encodeMs).median },
  { step: 'decode + checks', median_ms: summarize(decodeMs).median },
  { step: `start ${SITES} nodes and fill their indexes, per series`, median_ms: fillMs / CANDIDATES }
])

const median = (k: string): number => round(summarize(latency[k] ?? []).median)
const ncc = figures.ncc as Record<string, number>
printResult({
  bench: 'similarity',
  candidates: CANDIDATES,
  sites: SITES,
  thumbnail: SIZE,
  bins: BINS,
  ncc: figures.ncc,
  nmi: figures.nmi,
  cr: figures.cr,
  engine_top10_ms: { ncc: median('engine_ncc'), nmi: median('engine_nmi'), cr: median('engine_cr') },
  federated_top10_ms: { ncc: median('federated_ncc'), nmi: median('federated_nmi'), cr: median('federated_cr') },
  federated_top10_p95_ms: Math.max(...MEASURES.map(m => summarize(latency[`federated_${m}`] ?? []).p95)),
  fill_ms: round(fillMs),
  extract_256x256x200_ms: round(summarize(extractMs).median),
  encoded_bytes: encodedBytes,
  engine_ratio: ncc.engine_ratio,
  ratio: ncc.site_ratio
})
