import '../src/polyfill.js'
/**
 * DICOM ingest and retrieval, same series, same run, on loopback:
 *
 * - C-STORE: images/s and MB/s of DCMTK `storescu` → our SCP (streamed to
 *   disk, its data flushed ahead while it arrives, rename, one fsync of the
 *   file, unsynced registry record: the default) vs `storescu` → Orthanc
 *   (Debian). `ratio` = ours ÷ Orthanc in images/s (goal: ≥ 1). Orthanc
 *   flushes once per instance too, its SQLite index (strace: one fdatasync
 *   per instance), never the file; ours is also measured with
 *   `syncWrites: false` (no flush at all): `ratio_nosync`.
 * - C-GET of a series from Orthanc: our SCU pool (3 associations, UID lists
 *   split over them, a cache fill: no fsync, registry writes grouped) vs
 *   `getscu` alone (one series-level request, no fsync).
 *
 * Each round uses a fresh series (new UIDs) for both sides, and rotates
 * which side goes first. The machine is shared and its load drifts, so
 * `ratio` is the median over rounds of that round's ours ÷ Orthanc (the two
 * ran seconds apart); `ratio_of_medians` compares the medians over rounds.
 *
 * Both servers store on the same file system (the OS temp dir): the same
 * disk, the same page cache.
 */
import { mkdir, rm } from 'node:fs/promises'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prefixLogger } from '@libp2p/logger'
import { openStandaloneEdge, retrieveSeries, type StandaloneEdge } from '../src/dicom/index.js'
import { writeSeries, type GeneratedSeries } from '../src/synthetic/index.js'
import { startOrthanc } from '../test/dicom/helpers/orthanc.js'
import { freePort, killAll, runTool } from '../test/dicom/helpers/tools.js'
import { printResult, printTable, round, summarize } from './lib/report.js'

const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 7)
const SLICES = Number(process.env.BENCH_INGEST_SLICES ?? 100)
const SIZE = 512

const root = await mkdtemp(join(tmpdir(), 'dm2-bench-ingest-'))
let edge: StandaloneEdge | undefined
let fast: StandaloneEdge | undefined
let orthanc: Awaited<ReturnType<typeof startOrthanc>> | undefined

async function storescu (port: number, aeTitle: string, series: GeneratedSeries, dir: string): Promise<number> {
  const files = series.files.map(f => join(dir, f.name))
  const t = performance.now()
  const r = await runTool('storescu', ['-aec', aeTitle, '127.0.0.1', String(port), ...files], 120_000)
  const s = (performance.now() - t) / 1000
  if (r.code !== 0) throw new Error(`storescu → ${aeTitle} failed: ${r.stderr}`)
  return s
}

try {
  const scpPort = await freePort()
  orthanc = await startOrthanc({ dir: join(root, 'orthanc'), modalities: { DM2: { host: '127.0.0.1', port: scpPort }, GETSCU: { host: '127.0.0.1', port: 1 } } })
  edge = await openStandaloneEdge({
    dataDir: join(root, 'node'),
    logger: prefixLogger('bench'),
    aeTitle: 'DM2',
    scp: { host: '127.0.0.1', port: scpPort },
    pacs: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort },
    quietPeriodMs: 60_000
  })
  fast = await openStandaloneEdge({
    dataDir: join(root, 'fast'),
    logger: prefixLogger('bench-fast'),
    aeTitle: 'DM2FAST',
    scp: { host: '127.0.0.1', port: 0 },
    options: { syncWrites: false },
    quietPeriodMs: 60_000
  })
  const scp = edge.scp
  const fastScp = fast.scp
  const pool = edge.pool
  if (scp === undefined || fastScp === undefined || pool === undefined) throw new Error('edge incomplete')

  // Warm-up: JIT, page cache, Orthanc's database.
  const warm = await writeSeries(join(root, 'warm'), { rows: SIZE, columns: SIZE, slices: 5, seed: 'warm' })
  await storescu(scp.port, 'DM2', warm, join(root, 'warm'))
  await storescu(fastScp.port, 'DM2FAST', warm, join(root, 'warm'))
  await storescu(orthanc.dicomPort, orthanc.aeTitle, warm, join(root, 'warm'))

  const store = { ours: [] as number[], nosync: [] as number[], orthanc: [] as number[] }
  /** Per round, images/s ours ÷ Orthanc (seconds: Orthanc ÷ ours). */
  const pairs = { ours: [] as number[], nosync: [] as number[] }
  const get = { ours: [] as number[], getscu: [] as number[] }
  let bytes = 0
  for (let r = 0; r < ROUNDS; r++) {
    const dir = join(root, `series-${r}`)
    const series = await writeSeries(dir, { modality: 'CT', rows: SIZE, columns: SIZE, slices: SLICES, seed: `bench-${r}` })
    bytes = series.files.reduce((n, f) => n + f.bytes.length, 0)
    const sides = ['ours', 'nosync', 'orthanc'] as const
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(k + r) % sides.length] ?? 'ours'
      const [port, ae] = side === 'ours' ? [scp.port, 'DM2'] : side === 'nosync' ? [fastScp.port, 'DM2FAST'] : [orthanc.dicomPort, orthanc.aeTitle]
      store[side].push(await storescu(port, ae, series, dir))
    }
    const orthancSeconds = store.orthanc.at(-1) ?? NaN
    pairs.ours.push(orthancSeconds / (store.ours.at(-1) ?? NaN))
    pairs.nosync.push(orthancSeconds / (store.nosync.at(-1) ?? NaN))
    // Retrieval of that series from Orthanc: drop our copy first.
    const lfn = edge.registry.lfnOf(series.meta.seriesInstanceUID)
    for (const f of await edge.registry.adminDelete(lfn)) await edge.store.remove(f)
    const out = join(root, `getscu-${r}`)
    await mkdir(out)
    const getOrder: Array<'ours' | 'getscu'> = r % 2 === 0 ? ['ours', 'getscu'] : ['getscu', 'ours']
    for (const side of getOrder) {
      const t = performance.now()
      if (side === 'ours') {
        const res = await retrieveSeries({ pool, registry: edge.registry }, series.meta.studyInstanceUID, series.meta.seriesInstanceUID)
        if (res.completed !== SLICES) throw new Error(`C-GET retrieved ${res.completed}/${SLICES}`)
      } else {
        const res = await runTool('getscu', ['-S', '-od', out, '-aec', orthanc.aeTitle, '-k', 'QueryRetrieveLevel=SERIES',
          '-k', `StudyInstanceUID=${series.meta.studyInstanceUID}`, '-k', `SeriesInstanceUID=${series.meta.seriesInstanceUID}`,
          '127.0.0.1', String(orthanc.dicomPort)], 120_000)
        if (res.code !== 0) throw new Error(`getscu failed: ${res.stderr}`)
      }
      get[side].push((performance.now() - t) / 1000)
    }
    await rm(dir, { recursive: true, force: true })
    await rm(out, { recursive: true, force: true })
  }

  const rate = (seconds: number[]): { imagesPerSec: number, mbPerSec: number } => {
    const s = summarize(seconds).median
    return { imagesPerSec: SLICES / s, mbPerSec: bytes / 1e6 / s }
  }
  const storeOurs = rate(store.ours)
  const storeNosync = rate(store.nosync)
  const storeOrthanc = rate(store.orthanc)
  const getOurs = rate(get.ours)
  const getScu = rate(get.getscu)
  const row = (what: string, r: { imagesPerSec: number, mbPerSec: number }, seconds: number[]): Record<string, string | number> =>
    ({ what, images_per_s: r.imagesPerSec, mb_per_s: r.mbPerSec, median_s: summarize(seconds).median, min_s: summarize(seconds).min, max_s: summarize(seconds).max })
  printTable(`DICOM ingest and retrieval: ${SLICES} CT slices of ${SIZE}x${SIZE} (${(bytes / 1e6).toFixed(1)} MB), ${ROUNDS} rounds, medians`, [
    row('C-STORE storescu → DM2 SCP', storeOurs, store.ours),
    row('C-STORE storescu → DM2 SCP, no fsync', storeNosync, store.nosync),
    row('C-STORE storescu → Orthanc', storeOrthanc, store.orthanc),
    row(`C-GET Orthanc → DM2 SCU pool (${pool.size})`, getOurs, get.ours),
    row('C-GET Orthanc → getscu', getScu, get.getscu)
  ])
  printTable('C-STORE images/s, ours ÷ Orthanc, round by round', pairs.ours.map((ratio, r) => ({ round: r, ratio, ratio_nosync: pairs.nosync[r] ?? NaN })))
  printResult({
    bench: 'ingest',
    slices: SLICES,
    bytes,
    rounds: ROUNDS,
    store_ours_images_per_s: round(storeOurs.imagesPerSec),
    store_ours_mb_per_s: round(storeOurs.mbPerSec),
    store_nosync_images_per_s: round(storeNosync.imagesPerSec),
    store_nosync_mb_per_s: round(storeNosync.mbPerSec),
    store_orthanc_images_per_s: round(storeOrthanc.imagesPerSec),
    store_orthanc_mb_per_s: round(storeOrthanc.mbPerSec),
    get_ours_images_per_s: round(getOurs.imagesPerSec),
    get_getscu_images_per_s: round(getScu.imagesPerSec),
    get_ratio: round(getOurs.imagesPerSec / getScu.imagesPerSec),
    ratio_pairs: pairs.ours.map(r => round(r)),
    ratio_of_medians: round(storeOurs.imagesPerSec / storeOrthanc.imagesPerSec),
    ratio_nosync: round(summarize(pairs.nosync).median),
    ratio: round(summarize(pairs.ours).median)
  })
} finally {
  await fast?.close()
  await edge?.close()
  await orthanc?.stop()
  await killAll()
  await rm(root, { recursive: true, force: true })
}
