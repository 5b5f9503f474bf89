/**
 * Similarity ranking figures of one site, in process: per-candidate scoring
 * throughput of the ranking engine (10,000 candidates, 32³ thumbnails, every
 * candidate scored) for NCC, NMI and CR, next to a plain loop computing the
 * same measure over the same arrays (the ceiling: the simplest code, all
 * buffers preallocated), and top-10 latency with and without the histogram
 * pre-filter. `ratio` = engine ÷ plain loop candidates/s for NCC (goal ≥ 0.8).
 * Also: feature extraction of a 256×256×200 CT volume and encode/decode.
 */
import '../src/polyfill.js'
import {
  Ranker, decodeFeatures, encodeFeatures, extractFeatures, prepareMeasure
} from '../src/similarity/index.js'
import type { Features, MeasureName, RankCandidate } from '../src/similarity/index.js'
import { printResult, printTable, round, summarize } from './lib/report.js'

const CANDIDATES = Number(process.env.BENCH_SIMILARITY_CANDIDATES ?? 10_000)
const ROUNDS = Number(process.env.BENCH_SIMILARITY_ROUNDS ?? 5)
const LATENCY_QUERIES = Number(process.env.BENCH_SIMILARITY_QUERIES ?? 5)
const BASES = 20
const SIZE = 32
const BINS = 16
const TOP = 10

// --- data: 20 phantom volumes → features; candidates = a base × gain + noise ---

function xorshift (seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s / 4294967296
  }
}

function phantomVolume (seed: number): Features {
  const r = xorshift(seed * 7919 + 1)
  const [nx, ny, nz] = [64, 64, 48]
  const blobs = Array.from({ length: 5 }, (_, b) => ({
    c: [r() * 40 - 20, r() * 40 - 20, r() * 30 - 15],
    rad: b === 0 ? [25 + r() * 15, 20 + r() * 15, 20 + r() * 15] : [4 + r() * 10, 4 + r() * 10, 4 + r() * 10],
    v: b === 0 ? 40 : [-600, -100, 200, 900][Math.floor(r() * 4)] as number
  }))
  const data = new Int16Array(nx * ny * nz)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = [(i - nx / 2) * 1.4, (j - ny / 2) * 1.4, (k - nz / 2) * 2]
        let v = -1000
        for (const b of blobs) {
          let d = 0
          for (let a = 0; a < 3; a++) d += (((p[a] as number) - (b.c[a] as number)) / (b.rad[a] as number)) ** 2
          if (d <= 1) v = b.v
        }
        data[n++] = v + Math.round((r() - 0.5) * 40)
      }
    }
  }
  return extractFeatures({
    data, dims: [nx, ny, nz], affine: [1.4, 0, 0, 0, 0, 1.4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], modality: 'CT', bodyPart: 'CHEST'
  }, { thumbnailSize: SIZE })
}

// shared noise table: candidates read it from their own offset (fast to build, no two alike)
const noise = xorshift(77)
const NOISE = Float32Array.from({ length: 1 << 20 }, () => (noise() - 0.5) * 0.02)

function candidateOf (base: Features, seed: number): Features {
  const r = xorshift(seed + 12345)
  const gain = 0.9 + 0.2 * r()
  const offset = Math.floor(r() * NOISE.length)
  const mask = NOISE.length - 1
  const thumbnail = new Float32Array(base.thumbnail.length)
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < thumbnail.length; i++) {
    let v = (base.thumbnail[i] as number) * gain + (NOISE[(offset + i) & mask] as number)
    v = Math.fround(v < 0 ? 0 : v > 1 ? 1 : v)
    thumbnail[i] = v
    if (v < min) min = v
    if (v > max) max = v
  }
  const histogram = base.histogram.map(h => h * (0.95 + 0.1 * r()))
  const sum = histogram.reduce((a, b) => a + b, 0)
  for (let b = 0; b < histogram.length; b++) histogram[b] = (histogram[b] as number) / sum
  return { ...base, thumbnail, histogram, thumbnailMin: min, thumbnailMax: max }
}

let t = performance.now()
const bases = Array.from({ length: BASES }, (_, b) => phantomVolume(b))
const candidates: RankCandidate[] = Array.from({ length: CANDIDATES }, (_, c) => ({
  id: `lfn-${c}`, features: candidateOf(bases[c % BASES] as Features, c)
}))
const setupMs = performance.now() - t
const thumbs = candidates.map(c => c.features.thumbnail)
const mins = Float64Array.from(candidates, c => c.features.thumbnailMin)
const maxs = Float64Array.from(candidates, c => c.features.thumbnailMax)
const query = candidateOf(bases[3] as Features, 999_999)

// --- plain loops: the simplest code per measure, buffers preallocated ---

const V = SIZE ** 3
const joint = new Int32Array(BINS * BINS)
const rowSum = new Float64Array(BINS)
const colSum = new Float64Array(BINS)
const classN = new Float64Array(BINS)
const classS = new Float64Array(BINS)
const out = new Float64Array(CANDIDATES)

function plainNcc (q: Float32Array): void {
  for (let c = 0; c < thumbs.length; c++) {
    const b = thumbs[c] as Float32Array
    let sa = 0; let sb = 0; let saa = 0; let sbb = 0; let sab = 0
    for (let i = 0; i < V; i++) {
      const x = q[i] as number
      const y = b[i] as number
      sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
    }
    const cov = sab - sa * sb / V
    out[c] = cov / Math.sqrt((saa - sa * sa / V) * (sbb - sb * sb / V))
  }
}

function plainNmi (q: Float32Array, qmin: number, qmax: number): void {
  const qs = BINS / (qmax - qmin)
  for (let c = 0; c < thumbs.length; c++) {
    const b = thumbs[c] as Float32Array
    const lo = mins[c] as number
    const bs = BINS / ((maxs[c] as number) - lo)
    joint.fill(0)
    for (let i = 0; i < V; i++) {
      const x = Math.min(BINS - 1, (((q[i] as number) - qmin) * qs) | 0)
      const y = Math.min(BINS - 1, (((b[i] as number) - lo) * bs) | 0)
      joint[x * BINS + y] = (joint[x * BINS + y] as number) + 1
    }
    rowSum.fill(0); colSum.fill(0)
    let hab = 0
    for (let x = 0; x < BINS; x++) {
      for (let y = 0; y < BINS; y++) {
        const p = (joint[x * BINS + y] as number) / V
        rowSum[x] = (rowSum[x] as number) + p
        colSum[y] = (colSum[y] as number) + p
        if (p > 0) hab -= p * Math.log(p)
      }
    }
    let ha = 0; let hb = 0
    for (let k = 0; k < BINS; k++) {
      const pa = rowSum[k] as number
      const pb = colSum[k] as number
      if (pa > 0) ha -= pa * Math.log(pa)
      if (pb > 0) hb -= pb * Math.log(pb)
    }
    out[c] = (ha + hb) / hab
  }
}

function plainCr (q: Float32Array, qmin: number, qmax: number): void {
  const qs = BINS / (qmax - qmin)
  for (let c = 0; c < thumbs.length; c++) {
    const b = thumbs[c] as Float32Array
    classN.fill(0); classS.fill(0)
    let s = 0; let ss = 0
    for (let i = 0; i < V; i++) {
      const x = Math.min(BINS - 1, (((q[i] as number) - qmin) * qs) | 0)
      const y = b[i] as number
      classN[x] = (classN[x] as number) + 1
      classS[x] = (classS[x] as number) + y
      s += y; ss += y * y
    }
    let between = 0
    for (let k = 0; k < BINS; k++) if ((classN[k] as number) > 0) between += (classS[k] as number) ** 2 / (classN[k] as number)
    out[c] = (between - s * s / V) / (ss - s * s / V)
  }
}

const PLAIN: Record<MeasureName, () => void> = {
  ncc: () => plainNcc(query.thumbnail),
  nmi: () => plainNmi(query.thumbnail, query.thumbnailMin, query.thumbnailMax),
  cr: () => plainCr(query.thumbnail, query.thumbnailMin, query.thumbnailMax)
}

/**
 * Candidates per second of each scan, rounds interleaved (plain, kernel,
 * engine, plain, …) so that load from other processes hits them alike;
 * one warm-up scan each, then the median of ROUNDS.
 */
function throughputs (scans: Array<() => void>): Array<{ rate: number, ms: number }> {
  for (const scan of scans) scan()
  const times: number[][] = scans.map(() => [])
  for (let r = 0; r < ROUNDS; r++) {
    scans.forEach((scan, k) => {
      const t0 = performance.now()
      scan()
      times[k]?.push(performance.now() - t0)
    })
  }
  return times.map(ts => {
    const ms = summarize(ts).median
    return { rate: CANDIDATES / (ms / 1000), ms }
  })
}

const ranker = new Ranker()
const rows: Array<Record<string, string | number>> = []
const figures: Record<string, Record<string, number>> = {}
for (const measure of ['ncc', 'nmi', 'cr'] as const) {
  const [plain, kernel, engine] = throughputs([
    PLAIN[measure],
    // the measure's prepared kernel in a bare loop: shows what the engine adds
    () => {
      const m = prepareMeasure(measure, query.thumbnail, { bins: BINS })
      for (let c = 0; c < thumbs.length; c++) out[c] = m.score(thumbs[c] as Float32Array, mins[c], maxs[c])
    },
    () => { ranker.rank(query, candidates, { measure, topK: TOP, bins: BINS, prefilterKeep: Infinity }) }
  ]) as [{ rate: number, ms: number }, { rate: number, ms: number }, { rate: number, ms: number }]
  rows.push({
    measure,
    'plain loop cand/s': Math.round(plain.rate),
    'kernel cand/s': Math.round(kernel.rate),
    'engine cand/s': Math.round(engine.rate),
    'engine ms': engine.ms,
    'engine/plain': engine.rate / plain.rate
  })
  figures[measure] = { plain_per_s: Math.round(plain.rate), kernel_per_s: Math.round(kernel.rate), engine_per_s: Math.round(engine.rate), ratio: round(engine.rate / plain.rate) }
}
printTable(`Per-candidate scoring, ${CANDIDATES} candidates, ${SIZE}³ thumbnails, ${BINS} bins, every candidate scored (median of ${ROUNDS})`, rows)

// --- top-10 latency, whole ranking call, different queries ---
const latency: Record<string, number[]> = {}
const latencyRows: Array<Record<string, string | number>> = []
for (const measure of ['ncc', 'nmi', 'cr'] as const) {
  for (const keep of ['default', 'all'] as const) {
    const samples: number[] = []
    for (let q = 0; q < (keep === 'all' ? 3 : LATENCY_QUERIES); q++) {
      const qf = candidateOf(bases[(q * 7) % BASES] as Features, 500_000 + q)
      const t0 = performance.now()
      ranker.rank(qf, candidates, { measure, topK: TOP, bins: BINS, prefilterKeep: keep === 'all' ? Infinity : undefined })
      samples.push(performance.now() - t0)
    }
    latency[`${measure}_${keep}`] = samples
    const s = summarize(samples)
    latencyRows.push({ measure, prefilter: keep === 'all' ? 'none (all scored)' : 'max(10·K, 200)', n: s.n, median_ms: s.median, p95_ms: s.p95 })
  }
}
printTable(`Top-${TOP} latency over ${CANDIDATES} candidates, in process (ms)`, latencyRows)

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
  { step: 'decode + checks', median_ms: summarize(decodeMs).median }
])

const nccFig = figures.ncc as Record<string, number>
printResult({
  bench: 'similarity',
  candidates: CANDIDATES,
  thumbnail: SIZE,
  bins: BINS,
  setup_ms: round(setupMs),
  ncc: figures.ncc,
  nmi: figures.nmi,
  cr: figures.cr,
  top10_ms: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, round(summarize(v).median)])),
  extract_256x256x200_ms: round(summarize(extractMs).median),
  encoded_bytes: encodedBytes,
  ratio: round((nccFig.engine_per_s as number) / (nccFig.plain_per_s as number))
})
