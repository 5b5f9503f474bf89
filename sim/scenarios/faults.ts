/**
 * `npm run sim -- faults`: a federation under sustained load (getImage with
 * every answer checked, federated metadata queries) meets, in turn: a
 * hospital killed (SIGKILL, while an imager is pushing to it), the same
 * hospital restarted, a partition into two groups, one slow link, and
 * corrupted replica chunks at one site. Per fault: time to detect, time to
 * recover, requests failed. Then the invariants: every answered getImage is
 * byte-correct; nothing acknowledged is lost (C-STOREs the killed node
 * acknowledged, every prepared image); no access without a valid SAC (the
 * serving sites refuse forged, expired, foreign and too-narrow certificates);
 * the federation heals (DHT lookups, replication factor, every master
 * serving, every site answering). A failing invariant exits 1 and prints the
 * seed to replay.
 *
 * Options: --seed N (repeatable; default 1, 2, 3), --quick (one seed, three
 * hospitals, shorter holds), --out DIR, --keep.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { summarize } from '../../bench/lib/report.js'
import { parseScenarioArgs } from '../lib/args.js'
import { ContinuousLoad } from '../lib/fault-load.js'
import { corruptReplicas, killHospital, partition, restartHospital, slowLink, until, type FaultContext, type FaultReport } from '../lib/fault-phases.js'
import { Imager } from '../lib/imager.js'
import { writeResult, type Row } from '../lib/output.js'
import { seededRandom } from '../lib/shaping.js'
import { registerTimeoutMs } from '../harness/constants.js'
import { buildLibrary, referenceOf } from '../harness/dataset.js'
import { FederationNotReadyError } from '../harness/errors.js'
import { SimFederation } from '../harness/federation.js'
import { RequesterObserver } from '../harness/observer.js'
import { accessProbes, federationHealth, type ProbeImage } from '../harness/probes.js'
import { contentIdToCid } from '../../src/privacy/payload/index.js'

const FACTOR = 2
/**
 * Images of 12 slices of 512 × 512 (6.3 MB, 6 chunks of 1 MiB): a transfer
 * takes chunks from its first two sources (4 from the first), so a corrupt
 * replica is met. Each image has its own pixel content.
 */
const FAULT_SHAPE = { modality: 'CT' as const, rows: 512, columns: 512, slices: 12 }
/** What the imager pushes during the crash: the paper's small series. */
const IMAGER_SERIES = 4

interface Invariant { seed: number, invariant: string, pass: boolean, detail: string }

const log = (line: string): void => { process.stderr.write(`[faults] ${line}\n`) }

function shuffle<T> (items: T[], random: () => number): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T]
  }
  return a
}

/** The hospital most often second among an image's holders (as the requester finds them), and the images it holds. */
async function corruptionTarget (fed: SimFederation, images: ProbeImage[], prepared: Map<string, string>): Promise<{ index: number, lfns: string[] } | undefined> {
  const second = new Map<number, string[]>()
  for (const image of images) {
    const cid = prepared.get(image.lfn)
    if (cid === undefined) continue
    const holders = await fed.requester.localization.findHolders(contentIdToCid(new Uint8Array(Buffer.from(cid, 'hex')))).catch(() => [])
    const master = fed.hospitals[image.hospital]?.peerId
    const others = holders.map(p => p.toString()).filter(p => p !== master && p !== fed.requester.peerId.toString())
    const pick = fed.hospitals.find(h => h.peerId === others[0])
    if (pick !== undefined) second.set(pick.index, [...(second.get(pick.index) ?? []), image.lfn])
  }
  const [best] = [...second].sort((a, b) => b[1].length - a[1].length)
  return best === undefined ? undefined : { index: best[0], lfns: best[1] }
}

async function runSeed (seed: number, quick: boolean, root: string): Promise<{ faults: FaultReport[], invariants: Invariant[] }> {
  const hospitals = quick ? 3 : 5
  const perHospital = quick ? 1 : 2
  const random = seededRandom(seed)
  const started = performance.now()
  const say = (line: string): void => { log(`seed ${seed} +${((performance.now() - started) / 1000).toFixed(1)} s: ${line}`) }
  const library = await buildLibrary({ dir: join(root, 'library'), seed, count: hospitals * perHospital, shape: FAULT_SHAPE, templates: hospitals * perHospital })
  const pushed = await buildLibrary({ dir: join(root, 'imager'), seed: seed + 1000, count: IMAGER_SERIES + 1 })
  // A hospital LAN/WAN: 1 Gbit/s, 1 ms each way with jitter, rare losses.
  const link = { bitsPerSecond: 1e9, latencyMs: 1, jitterMs: 0.5, loss: 0.0002 }
  const fed = await SimFederation.start({
    root: join(root, 'federation'),
    hospitals,
    seed,
    requesterLink: link,
    hospitalLink: () => link,
    replicationFactor: FACTOR,
    replication: { graceMs: 2_000, reconcileMs: 1_500 },
    log
  })
  const invariants: Invariant[] = []
  const check = (invariant: string, pass: boolean, detail: string): void => { invariants.push({ seed, invariant, pass, detail }) }
  let load: ContinuousLoad | undefined
  let observer: RequesterObserver | undefined
  try {
    // Each hospital masters its own series, prepared (so that they replicate) before the load starts.
    say('started')
    const images: ProbeImage[] = []
    const prepared = new Map<string, string>()
    await Promise.all(fed.hospitals.map(async h => {
      const mine = library.slice(h.index * perHospital, (h.index + 1) * perHospital)
      await h.pacs?.call('pacsLoad', { series: mine.map(s => ({ series: s.series, files: s.files })) })
      const { lfns } = await h.handle.call('register', { series: mine }, registerTimeoutMs(mine.length))
      const { contentIds } = await h.handle.call('prepare', { lfns })
      for (const [k, lfn] of lfns.entries()) prepared.set(lfn, contentIds[k] as string)
      for (const [k, lfn] of lfns.entries()) images.push({ lfn, hospital: h.index, digest: (await referenceOf(mine[k] as (typeof mine)[number], join(root, 'ref'))).digest })
    }))
    const scratch = join(root, 'scratch')
    let health = { ok: false, failures: ['not checked'] }
    const replicated = await until(async () => { health = await federationHealth(fed, images, FACTOR, scratch); return health.ok }, 120_000, 500)
    if (replicated === undefined) throw new FederationNotReadyError(`not whole before the faults: ${health.failures.join('; ')}`)
    say(`${hospitals} hospitals, ${images.length} images at replication factor ${FACTOR}`)

    observer = new RequesterObserver(fed.requester)
    const requestTimeoutMs = quick ? 3_500 : 5_000
    load = new ContinuousLoad({ node: fed.requester, user: () => fed.user(), images, outDir: join(root, 'load'), inflight: quick ? 2 : 3, timeoutMs: requestTimeoutMs, queryEveryMs: 500, seed })
    load.start()
    await new Promise(resolve => setTimeout(resolve, quick ? 2_500 : 4_000))
    const baseline = load.events.filter(e => e.kind === 'image' && e.ok)
    const ctx: FaultContext = {
      fed,
      load,
      observer,
      images,
      factor: FACTOR,
      scratch,
      baselineMs: summarize(baseline.map(e => e.end - e.start)).median || 200,
      holdMs: quick ? 2_500 : 5_000,
      requestTimeoutMs,
      recoverTimeoutMs: quick ? 30_000 : 45_000,
      log: say
    }
    const order = shuffle(fed.hospitals.map(h => h.index), random)
    const [victim, slow] = order as [number, number]
    const imager = new Imager()
    const faults: FaultReport[] = []
    faults.push(await killHospital(ctx, victim, imager, pushed.slice(0, IMAGER_SERIES)))
    faults.push(await restartHospital(ctx, victim))
    // Acknowledged instances must have survived the crash; one more series pushed now must be kept too.
    const v = fed.hospitals[victim]
    if (v !== undefined) {
      const { dicomPort } = await v.handle.call('status')
      await imager.push({ host: '127.0.0.1', port: dicomPort, aeTitle: v.init.nodeAeTitle }, pushed[IMAGER_SERIES] as (typeof pushed)[number])
      const { present } = await v.handle.call('present', { sops: imager.acknowledged })
      const lost = imager.acknowledged.filter(s => !present.includes(s))
      check('acknowledged C-STOREs survive a crash', lost.length === 0 && imager.acknowledged.length > 0, `${imager.acknowledged.length} acknowledged, ${lost.length} lost`)
    }
    const sites = shuffle(fed.hospitals.map(h => h.site), random)
    const half = Math.ceil(sites.length / 2)
    faults.push(await partition(ctx, [[0, ...sites.slice(0, half - 1)], sites.slice(half - 1)]))
    faults.push(await slowLink(ctx, slow))
    // A site that transfers take chunks from: second in the holders list of some image (the master usually comes first).
    const target = await corruptionTarget(fed, images, prepared)
    if (target !== undefined) faults.push(await corruptReplicas(ctx, target.index, images.filter(i => target.lfns.includes(i.lfn))))
    await load.stop()
    // Kept with --keep: every request of the run, for a closer look.
    await writeFile(join(root, 'events.json'), JSON.stringify({ faults, events: load.events, peers: observer.peers, drops: observer.drops }))

    const answered = load.events.filter(e => e.kind === 'image' && e.ok)
    const wrong = answered.filter(e => e.correct !== true)
    check('every answered getImage is byte-correct', wrong.length === 0 && answered.length > 0, `${answered.length} answered, ${wrong.length} wrong`)
    const holder = target === undefined ? undefined : fed.hospitals[target.index]?.peerId
    const probes = await accessProbes(fed, images[0] as ProbeImage, ((images[0]?.hospital ?? 0) + 1) % hospitals, holder, scratch)
    const allowed = probes.filter(p => !p.denied)
    check('no access without a valid SAC', allowed.length === 0, allowed.length === 0 ? `${probes.length} attempts refused` : allowed.map(p => `${p.attempt}: ${p.outcome}`).join('; '))
    let last = { ok: false, failures: ['not checked'] }
    const healed = await until(async () => { last = await federationHealth(fed, images, FACTOR, scratch); return last.ok }, ctx.recoverTimeoutMs, 1_000)
    check('the federation heals (DHT, replication factor, every master serving, every site answering)', healed !== undefined, healed !== undefined ? 'whole' : last.failures.join('; '))
    const lostImages: string[] = []
    for (const image of images) if (await import('../lib/fault-phases.js').then(async m => await m.timedGet(ctx, image)) === undefined) lostImages.push(image.lfn)
    check('every prepared image is still served, byte-correct', lostImages.length === 0, `${images.length - lostImages.length}/${images.length}`)
    return { faults, invariants }
  } finally {
    await load?.stop().catch(() => {})
    observer?.stop()
    await fed.stop()
  }
}

export async function run (argv: string[]): Promise<number> {
  const args = parseScenarioArgs(argv)
  const seeds = args.seeds.length > 0 ? args.seeds : args.quick ? [1] : [1, 2, 3]
  const rows: Row[] = []
  const invariants: Invariant[] = []
  for (const seed of seeds) {
    const root = await mkdtemp(join(tmpdir(), `dm2-sim-faults-${seed}-`))
    try {
      const r = await runSeed(seed, args.quick, root)
      for (const f of r.faults) rows.push({ seed, ...f })
      invariants.push(...r.invariants)
    } catch (err) {
      invariants.push({ seed, invariant: 'the scenario runs to the end', pass: false, detail: `${(err as Error).name}: ${(err as Error).message}` })
    } finally {
      if (!args.keep) await rm(root, { recursive: true, force: true })
      else log(`kept ${root}`)
    }
  }
  const failedSeeds = [...new Set(invariants.filter(i => !i.pass).map(i => i.seed))]
  for (const i of invariants) log(`${i.pass ? 'ok  ' : 'FAIL'} seed ${i.seed}: ${i.invariant} — ${i.detail}`)
  const faults = [...new Set(rows.map(r => String(r.fault)))]
  await writeResult({
    scenario: 'faults',
    rows,
    columns: ['seed', 'fault', 'target', 'detectMs', 'recoverMs', 'failed', 'degraded', 'requests', 'note'],
    chart: {
      title: 'Faults under load: time to recover (ms)',
      xLabel: faults.map((f, i) => `${i + 1} ${f}`).join(', '),
      yLabel: 'ms',
      kind: 'bar',
      series: seeds.map(seed => ({ name: `seed ${seed}`, points: rows.filter(r => r.seed === seed).map(r => [faults.indexOf(String(r.fault)) + 1, Number(r.recoverMs ?? NaN)] as [number, number]) }))
    },
    tableTitle: 'faults: per fault, ms to detect and to recover, requests failed',
    ...(args.out === undefined ? {} : { outDir: args.out }),
    extra: { seeds, quick: args.quick, pass: failedSeeds.length === 0, failedSeeds, invariants }
  })
  if (failedSeeds.length > 0) {
    process.stderr.write(`faults: invariant failed with seed ${failedSeeds.join(', ')} (replay: npm run sim -- faults --seed ${failedSeeds[0] ?? ''})\n`)
    return 1
  }
  return 0
}
