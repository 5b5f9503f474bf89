/**
 * `npm run sim -- paper-fig4b`: the paper's experiment (§5, fig. 4b). One
 * requesting site starts N getImage queries at once for images of 3 slices of
 * 0.5 MB (512 × 512 × 16 bit) held by 1 … 6 hospitals, each hospital fetching
 * slices from its own PACS over 3 DICOM associations (its SCU pool), every
 * site on a 100 Mbit/s access link; counted: queries solved in the first
 * 45 s, next to the paper's 26.3 (1 hospital) and 105 (6) and to the link
 * ceiling — the requesting site's link (or the hospitals' together, if
 * narrower) over the bytes one image actually carried on it. Each image is
 * fresh at its master (never prepared before: C-GET, assembly, sealing), and
 * each point is a fresh federation. The requesting site's engine runs the N
 * queries at most `--inflight` at a time (18 + 2 per hospital), as the
 * paper's engine bounded its channels. A second pass gives the requesting
 * site 1 Gbit/s, so the ceiling grows with the hospitals' links until this
 * machine's CPU is the limit.
 *
 * Options: --quick (10 s window, 1 and 2 hospitals, 100 Mbit/s only),
 * --hospitals 1,2,6, --window S, --link 100 --link 1000 (requesting link,
 * Mbit/s; default both, the 1 Gbit/s pass with 2 and 6 hospitals),
 * --inflight K, --seed N, --pacs orthanc, --in-process (every site in this
 * process, for comparison), --out DIR, --keep.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { printTable, round, summarize } from '../../bench/lib/report.js'
import { parseScenarioArgs } from '../lib/args.js'
import { meanStages, runImageLoad, type ImageJob } from '../lib/image-load.js'
import { writeResult, type ChartSeries, type Row } from '../lib/output.js'
import { buildLibrary, PAPER_SHAPE, type LibrarySeries } from '../harness/dataset.js'
import { FederationNotReadyError } from '../harness/errors.js'
import { SimFederation } from '../harness/federation.js'
import { PAPER_LINK_BPS, registerTimeoutMs } from '../harness/constants.js'
import { imageCeiling } from '../harness/topology.js'

/** Fig. 4b: solved queries in 45 s; the paper gives the two ends only. */
const PAPER: Readonly<Record<number, number>> = { 1: 26.3, 6: 105 }
/** Extra queries beyond the ceiling, so that the window never runs out of work. */
const HEADROOM = 1.15
/** Raw bytes of one paper image (the pipeline sends it uncompressed; checked against the wire). */
const NOMINAL_IMAGE_BYTES = PAPER_SHAPE.rows * PAPER_SHAPE.columns * PAPER_SHAPE.slices * 2 + 352
/** Hospital counts of the 1 Gbit/s pass (with one hospital it equals the 100 Mbit/s run: the hospital's own link is the limit). */
const GIGABIT_COUNTS = [2, 6]

interface RunInit {
  root: string
  pacsRoot: string
  library: LibrarySeries[]
  hospitals: number
  requesterBps: number
  windowMs: number
  inflight: number
  seed: number
  pacs: 'edge' | 'orthanc'
  inProcess: boolean
  perHospital: number
}

const log = (line: string): void => { process.stderr.write(`[paper-fig4b] ${line}\n`) }

/** Busy and total CPU time of the whole machine so far (every process, ours or not), ms. */
function machineCpu (): { busy: number, total: number } {
  let busy = 0
  let total = 0
  for (const c of cpus()) {
    const t = c.times
    busy += t.user + t.nice + t.sys + t.irq
    total += t.user + t.nice + t.sys + t.irq + t.idle
  }
  return { busy, total }
}

/** One point of the figure: a fresh federation of `hospitals`, warmed up, then the window. */
async function runOnce (r: RunInit): Promise<Row> {
  const fed = await SimFederation.start({
    root: join(r.root, `link${r.requesterBps / 1e6}-h${r.hospitals}`),
    pacsRoot: r.pacsRoot,
    hospitals: r.hospitals,
    seed: r.seed,
    requesterLink: { bitsPerSecond: r.requesterBps },
    hospitalLink: () => ({ bitsPerSecond: PAPER_LINK_BPS }),
    pacs: r.pacs,
    inProcess: r.inProcess,
    replicationFactor: 0,
    log
  })
  try {
    // Series 0 warms each hospital up; 1 … perHospital are the measured queries.
    const mine = r.library.slice(0, r.perHospital + 1)
    const t0 = performance.now()
    if (r.pacs === 'edge') await Promise.all(fed.hospitals.map(async h => await h.pacs?.call('pacsLoad', { series: mine.map(s => ({ series: s.series, files: s.files })) })))
    else await Promise.all(fed.hospitals.map(async h => { for (const s of mine) for (const f of s.files) await h.orthanc?.upload(f) }))
    const lfns = await Promise.all(fed.hospitals.map(async h => (await h.handle.call('register', { series: mine }, registerTimeoutMs(mine.length))).lfns))
    log(`${r.hospitals} hospital(s): ${mine.length} series registered at each in ${Math.round(performance.now() - t0)} ms`)

    const wallet = fed.wallet()
    const outDir = join(r.root, 'out')
    // Warm-up: connections, associations, JIT; and the bytes one image carries on the requester's link.
    const before = await fed.network.counters(0)
    const warm = await runImageLoad({ node: fed.requester, wallet, outDir, inflight: r.hospitals, windowMs: 120_000, jobs: lfns.map((l, hospital) => ({ lfn: l[0] as string, hospital })) })
    const failedWarm = warm.outcomes.find(o => !o.ok)
    if (failedWarm !== undefined) throw new FederationNotReadyError(`warm-up getImage failed: ${failedWarm.error ?? ''}`)
    const wireBytes = ((await fed.network.counters(0)).down - before.down) / warm.outcomes.length

    const jobs: ImageJob[] = []
    for (let k = 1; k <= r.perHospital; k++) for (const [hospital, l] of lfns.entries()) jobs.push({ lfn: l[k] as string, hospital, series: k })
    const cpu0 = await fed.usage()
    const machine0 = machineCpu()
    const down0 = (await fed.network.counters(0)).down
    const load = await runImageLoad({ node: fed.requester, wallet, outDir, inflight: r.inflight, windowMs: r.windowMs, jobs })
    const cpu1 = await fed.usage()
    const machine1 = machineCpu()
    const machinePercent = (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total) * 100
    const carried = (await fed.network.counters(0)).down - down0
    const cpuMs = cpu1.reduce((s, u) => s + u.cpuMs, 0) - cpu0.reduce((s, u) => s + u.cpuMs, 0)
    const ceiling = imageCeiling({ requesterBps: r.requesterBps, hospitalUpBps: fed.hospitals.map(() => PAPER_LINK_BPS), bytesPerImage: wireBytes, seconds: r.windowMs / 1000 })
    const ok = load.outcomes.filter(o => o.ok)
    const stages = meanStages(ok)
    const failed = load.outcomes.filter(o => !o.ok && o.error !== 'aborted')
    const cpuPercent = cpuMs / (load.elapsedMs * availableParallelism()) * 100
    // One JS thread per process: a process near 100 % of a core is a bottleneck even with a core free.
    const perProcess = cpu1.map(u => ({ name: u.name, percent: (u.cpuMs - (cpu0.find(b => b.name === u.name)?.cpuMs ?? 0)) / load.elapsedMs * 100 }))
    const busiest = perProcess.reduce((a, b) => b.percent > a.percent ? b : a, { name: '', percent: 0 })
    const ofCeiling = load.solved / ceiling
    const row: Row = {
      link: `${r.requesterBps / 1e6} Mbit/s`,
      hospitals: r.hospitals,
      solved45s: load.solved,
      ceiling45s: ceiling,
      paper45s: PAPER[r.hospitals] ?? null,
      ofCeiling: round(ofCeiling, 3),
      wireMBPerImage: round(wireBytes / 1e6, 3),
      linkMBps: round(carried / (load.elapsedMs / 1000) / 1e6, 2),
      medianMs: round(summarize(ok.map(o => o.ms)).median, 0),
      locateMs: round(stages?.locate ?? NaN, 0),
      prepareMs: round(stages?.prepare ?? NaN, 0),
      transferMs: round(stages?.transfer ?? NaN, 0),
      decryptMs: round(stages?.decrypt ?? NaN, 0),
      cpuPercent: round(cpuPercent, 0),
      machineCpuPercent: round(machinePercent, 0),
      busiestProcess: `${busiest.name} ${Math.round(busiest.percent)}%`,
      failed: failed.length,
      limit: ofCeiling >= 0.9 ? 'link' : cpuPercent >= 85 ? 'cpu' : busiest.percent >= 90 ? `one thread (${busiest.name})` : machinePercent >= 90 ? 'cpu (shared with other work)' : 'latency',
      exhausted: load.exhausted
    }
    if (failed.length > 0) log(`failures: ${[...new Set(failed.map(f => f.error))].join(', ')}`)
    log(JSON.stringify(row))
    return row
  } finally {
    await fed.stop()
  }
}

export async function run (argv: string[]): Promise<number> {
  const args = parseScenarioArgs(argv)
  const seed = args.seeds[0] ?? 1
  const windowMs = (args.windowS ?? (args.quick ? 10 : 45)) * 1000
  const counts = args.hospitals ?? (args.quick ? [1, 2] : [1, 2, 3, 4, 5, 6])
  const links = (args.linksMbit ?? (args.quick ? [100] : [100, 1000])).map(m => m * 1e6)
  const root = await mkdtemp(join(tmpdir(), 'dm2-sim-fig4b-'))
  const loadBefore = loadavg()[0] ?? 0
  const started = performance.now()
  try {
    // Enough series that no hospital runs dry within the window: a hospital can send at most its own link's worth.
    const perHospitalMax = Math.ceil(imageCeiling({ requesterBps: PAPER_LINK_BPS, hospitalUpBps: [PAPER_LINK_BPS], bytesPerImage: NOMINAL_IMAGE_BYTES, seconds: windowMs / 1000 }) * HEADROOM) + 2
    const t = performance.now()
    const library = await buildLibrary({ dir: join(root, 'library'), seed, count: perHospitalMax + 1 })
    log(`${library.length} synthetic series (3 × 0.5 MB) in ${Math.round(performance.now() - t)} ms`)
    const rows: Row[] = []
    // Series per hospital: what its link allows, or — once a run has shown what this machine does — twice that.
    let best = 0
    for (const requesterBps of links) {
      const gigabit = requesterBps > PAPER_LINK_BPS
      for (const hospitals of gigabit ? (args.hospitals ?? (args.quick ? [2] : GIGABIT_COUNTS)) : counts) {
        const ceiling = imageCeiling({ requesterBps, hospitalUpBps: Array.from({ length: hospitals }, () => PAPER_LINK_BPS), bytesPerImage: NOMINAL_IMAGE_BYTES, seconds: windowMs / 1000 })
        const byLink = Math.min(perHospitalMax, Math.ceil(ceiling * HEADROOM / hospitals) + 2)
        const perHospital = best === 0 ? byLink : Math.min(byLink, Math.ceil(2 * best / hospitals) + 4)
        const row = await runOnce({
          root,
          pacsRoot: join(root, 'pacs'),
          library,
          hospitals,
          requesterBps,
          windowMs,
          seed,
          inflight: args.inflight ?? 18 + 2 * hospitals,
          pacs: args.pacs,
          inProcess: args.inProcess,
          perHospital
        })
        if (row.exhausted === true) log(`${hospitals} hospital(s): every query was solved before the window closed: the count is a lower bound (rerun with more series)`)
        best = Math.max(best, Number(row.solved45s))
        rows.push(row)
      }
    }
    const paperRows = rows.filter(r => r.link === '100 Mbit/s')
    const gigabitRows = rows.filter(r => r.link !== '100 Mbit/s')
    const series = (name: string, rs: Row[], key: string, dashed = false): ChartSeries => ({ name, dashed, points: rs.map(r => [Number(r.hospitals), Number(r[key])]) })
    const chartSeries: ChartSeries[] = [
      { name: 'paper (fig. 4b)', points: Object.entries(PAPER).map(([h, v]) => [Number(h), v]) },
      series('solved, 100 Mbit/s', paperRows, 'solved45s'),
      series('link ceiling, 100 Mbit/s', paperRows, 'ceiling45s', true)
    ]
    if (gigabitRows.length > 0) chartSeries.push(series('solved, 1 Gbit/s requester', gigabitRows, 'solved45s'), series('link ceiling, 1 Gbit/s requester', gigabitRows, 'ceiling45s', true))
    const windowS = windowMs / 1000
    // Every run in detail (both links), then the result in the form other tools read.
    printTable(`paper-fig4b in detail: mean ms per query stage, CPU of our processes and of the whole machine (${availableParallelism()} cores)`, rows.map(r => Object.fromEntries(
      ['link', 'hospitals', 'solved45s', 'ceiling45s', 'paper45s', 'ofCeiling', 'wireMBPerImage', 'linkMBps', 'medianMs', 'locateMs', 'prepareMs', 'transferMs', 'decryptMs', 'cpuPercent', 'machineCpuPercent', 'busiestProcess', 'failed', 'limit']
        .map(k => [k, typeof r[k] === 'number' || typeof r[k] === 'string' ? r[k] as number | string : String(r[k] ?? '')])
    )))
    await writeResult({
      scenario: 'paper-fig4b',
      seed,
      rows: (paperRows.length > 0 ? paperRows : rows).map(r => ({ hospitals: r.hospitals as number, solved45s: r.solved45s as number, ceiling45s: r.ceiling45s as number, paper45s: r.paper45s as number | null })),
      columns: ['hospitals', 'solved45s', 'ceiling45s', 'paper45s'],
      chart: { title: `Solved getImage queries in the first ${windowS} s (paper fig. 4b)`, xLabel: 'hospitals', yLabel: `images solved in ${windowS} s`, series: chartSeries },
      tableTitle: `paper-fig4b: solved queries in ${windowS} s, every site on 100 Mbit/s`,
      ...(args.out === undefined ? {} : { outDir: args.out }),
      extra: {
        windowS,
        quick: args.quick,
        image: { slices: 3, rows: 512, columns: 512, bitsAllocated: 16, payload: 'uncompressed NIfTI, AEAD-sealed (ceiling from bytes measured on the requesting link)' },
        dicomChannelsPerPacs: 3,
        processes: args.inProcess ? 'one' : 'a node and a PACS process per hospital; requester and proxies in the main process',
        machine: { cores: availableParallelism(), loadAverageBefore: round(loadBefore, 2), loadAverageAfter: round(loadavg()[0] ?? 0, 2), minutes: round((performance.now() - started) / 60_000, 1) },
        details: rows,
        ...(gigabitRows.length > 0 ? { gigabit: gigabitRows.map(r => ({ hospitals: r.hospitals, solved45s: r.solved45s, ceiling45s: r.ceiling45s, cpuPercent: r.cpuPercent, limit: r.limit })) } : {})
      }
    })
    return 0
  } finally {
    if (!args.keep) await rm(root, { recursive: true, force: true })
    else log(`kept ${root}`)
  }
}
