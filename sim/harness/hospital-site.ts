/**
 * One simulated hospital node as it runs inside its process: it reaches its
 * PACS (another process, or an Orthanc) through its SCU pool, and the
 * federation through its shaping proxy. The commands are what the
 * orchestrator asks of a hospital: register series virtually (C-FIND only, as
 * `dm2 register --virtual` would), prepare, replicate, report, corrupt a disk.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig, type ConfigOverride } from '../../src/config/load.js'
import { identifierFor, toAttributes, VIRTUAL_KEYS } from '../../src/dicom/identifiers.js'
import { hospitalLogger } from '../../src/log/index.js'
import { routingTableSize } from '../../src/node/discovery.js'
import type { AttrMap } from '../../src/registry/index.js'
import { createHospitalNode, type HospitalNode } from '../../src/node/index.js'
import { withDeadline } from '../lib/deadline.js'
import { FederationNotReadyError } from './errors.js'

/** Series registered per batch of C-FINDs. */
const REGISTER_BATCH = 25

export interface SiteInit {
  /** Hospital name, e.g. `hospital-a`. */
  name: string
  /** The node's data directory. */
  dataDir: string
  /** Real libp2p port, and the proxy port the node announces. */
  listenPort: number
  announcePort: number
  bootstrap: string[]
  rosterFile: string
  authorityKeys: string[]
  /** The hospital's PACS. */
  pacs: { aeTitle: string, host: string, port: number }
  nodeAeTitle: string
  replicationFactor: number
  replication?: { graceMs?: number, reconcileMs?: number }
}

export interface SiteStatus {
  name: string
  peerId: string
  routingTable: number
  connections: number
  /** The node's own DICOM SCP (imagers push here). */
  dicomPort: number
  rss: number
  heapUsed: number
  cpuUserMs: number
  cpuSystemMs: number
}

export interface SeriesRef { study: string, series: string }

/** What the orchestrator can ask of a hospital; each answer is plain JSON. */
export interface HospitalCommands {
  status: () => Promise<SiteStatus>
  /** Registers PACS series at the node from C-FIND answers and announces them; returns their LFNs. */
  register: (args: { series: SeriesRef[], concurrency?: number }) => Promise<{ lfns: string[], findMs: number, publishMs: number }>
  /** Prepares images at this master (assemble, seal, cache), `concurrency` at a time; mean ms from start to each step. */
  prepare: (args: { lfns: string[], concurrency?: number }) => Promise<{ contentIds: string[], steps: Record<string, number>, ms: number }>
  /** One replication pass: for each mastered image, the live replica holders. */
  reconcile: () => Promise<Array<{ lfn: string, live: string[], placed: string[], failed: string[] }>>
  /** Flips one byte in every replica chunk file this site holds (disk corruption). */
  corruptReplicas: () => Promise<{ files: number }>
  /** Which of these SOP instances the node holds with a file (acknowledged C-STOREs). */
  present: (args: { sops: string[] }) => Promise<{ present: string[] }>
}

export class HospitalSite implements HospitalCommands {
  readonly init: SiteInit
  private _node?: HospitalNode

  private constructor (init: SiteInit) {
    this.init = init
  }

  get node (): HospitalNode {
    if (this._node === undefined) throw new FederationNotReadyError(`${this.init.name} has not started`)
    return this._node
  }

  /** Starts the node; on failure closes what it opened. */
  static async open (init: SiteInit): Promise<HospitalSite> {
    const site = new HospitalSite(init)
    try {
      await site.start()
    } catch (err) {
      await site.close()
      throw err
    }
    return site
  }

  private async start (): Promise<void> {
    const { init } = this
    const logger = hospitalLogger(init.name)
    const o = (path: string[], value: unknown): ConfigOverride => ({ path, value, source: 'simulator' })
    const config = await loadConfig({
      env: {},
      cwd: init.dataDir,
      overrides: [
        o(['name'], init.name), o(['dataDir'], init.dataDir),
        o(['listen'], [`/ip4/127.0.0.1/tcp/${init.listenPort}`]),
        o(['announce'], [`/ip4/127.0.0.1/tcp/${init.announcePort}`]),
        o(['bootstrap'], init.bootstrap),
        o(['roster'], init.rosterFile),
        o(['federationAuthorities'], { keys: init.authorityKeys, threshold: 1 }),
        o(['dicom'], { aeTitle: init.nodeAeTitle, host: '127.0.0.1', port: 0 }),
        o(['pacs'], init.pacs),
        o(['replicationFactor'], init.replicationFactor)
      ]
    })
    this._node = createHospitalNode(config, { logger, ...(init.replication === undefined ? {} : { replication: init.replication }) })
    await this._node.start()
  }

  async close (): Promise<void> {
    await this._node?.stop().catch(() => {})
  }

  status = async (): Promise<SiteStatus> => {
    const node = this.node
    const mem = process.memoryUsage()
    const cpu = process.cpuUsage()
    return {
      name: this.init.name,
      peerId: node.peerId.toString(),
      routingTable: routingTableSize(node),
      connections: node.libp2p.getConnections().length,
      dicomPort: node.dicom.scp?.port ?? 0,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000
    }
  }

  register = async (args: { series: SeriesRef[], concurrency?: number }): Promise<{ lfns: string[], findMs: number, publishMs: number }> => {
    const node = this.node
    const pool = node.dicom.pool
    if (pool === undefined) throw new FederationNotReadyError(`${this.init.name} has no PACS`)
    const batches: SeriesRef[][] = []
    for (let i = 0; i < args.series.length; i += REGISTER_BATCH) batches.push(args.series.slice(i, i + REGISTER_BATCH))
    const byBatch: string[][] = new Array<string[]>(batches.length)
    let next = 0
    const worker = async (): Promise<void> => {
      for (let b = next++; b < batches.length; b = next++) byBatch[b] = await this.registerBatch(batches[b] as SeriesRef[])
    }
    const t0 = performance.now()
    await Promise.all(Array.from({ length: Math.min(args.concurrency ?? pool.size, batches.length) }, worker))
    const lfns = byBatch.flat()
    const t1 = performance.now()
    // Every announcement done (the record is then in the node's own cache) or, failing that, found in the DHT.
    for (const lfn of lfns) await this.resolvable(lfn)
    return { lfns, findMs: t1 - t0, publishMs: performance.now() - t1 }
  }

  /**
   * What `registerVirtualSeries` does for one series (STUDY, SERIES and IMAGE
   * C-FINDs, then a virtual registration), for a batch at once: each C-FIND
   * asks for the batch's UIDs as a list (PS3.4 C.2.2.2.2, list of UID
   * matching). The node announces each registered series in the DHT itself.
   */
  private async registerBatch (batch: SeriesRef[]): Promise<string[]> {
    const node = this.node
    const pool = node.dicom.pool as NonNullable<typeof node.dicom.pool>
    const find = async (level: 'STUDY' | 'SERIES' | 'IMAGE', key: 'StudyInstanceUID' | 'SeriesInstanceUID', uids: string[]): Promise<AttrMap[]> =>
      (await pool.find({ ...identifierFor(level, VIRTUAL_KEYS[level]), [key]: uids })).map(toAttributes)
    const studies = await find('STUDY', 'StudyInstanceUID', batch.map(s => s.study))
    const series = await find('SERIES', 'SeriesInstanceUID', batch.map(s => s.series))
    const images = await find('IMAGE', 'SeriesInstanceUID', batch.map(s => s.series))
    const lfns: string[] = []
    for (const s of batch) {
      const study = studies.find(r => r.StudyInstanceUID === s.study)
      const row = series.find(r => r.SeriesInstanceUID === s.series)
      const instances = images.filter(r => r.SeriesInstanceUID === s.series)
      if (study === undefined || row === undefined || instances.length === 0) throw new FederationNotReadyError(`the PACS of ${this.init.name} does not know series ${batch.indexOf(s)} of the batch`)
      const record = await node.dicom.registry.registerVirtual({ ...study, ...row, StudyInstanceUID: s.study, SeriesInstanceUID: s.series }, instances)
      lfns.push(record.lfn)
    }
    return lfns
  }

  private async resolvable (lfn: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await withDeadline(5_000, async signal => await this.node.localization.resolveLfn(lfn, { signal }))
        return
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
  }

  prepare = async (args: { lfns: string[], concurrency?: number }): Promise<{ contentIds: string[], steps: Record<string, number>, ms: number }> => {
    const contentIds: string[] = new Array<string>(args.lfns.length)
    const sums: Record<string, number> = {}
    const started = performance.now()
    let next = 0
    const worker = async (): Promise<void> => {
      for (let i = next++; i < args.lfns.length; i = next++) {
        const t0 = performance.now()
        const seen: Record<string, number> = {}
        const p = await this.node.dataPlane.pipeline.prepare(args.lfns[i] as string, { onProgress: e => { seen[e.step] ??= performance.now() - t0 } })
        seen.done = performance.now() - t0
        for (const [k, v] of Object.entries(seen)) sums[k] = (sums[k] ?? 0) + v
        contentIds[i] = p.contentId
      }
    }
    await Promise.all(Array.from({ length: args.concurrency ?? 1 }, worker))
    const steps = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / args.lfns.length]))
    return { contentIds, steps, ms: performance.now() - started }
  }

  reconcile = async (): Promise<Array<{ lfn: string, live: string[], placed: string[], failed: string[] }>> => {
    const reports = await this.node.replicas.reconcile()
    return reports.map(r => ({ lfn: r.lfn, live: r.live, placed: r.placed, failed: r.failed }))
  }

  corruptReplicas = async (): Promise<{ files: number }> => {
    const root = join(this.init.dataDir, 'replicas')
    let files = 0
    for (const cid of await readdir(root).catch(() => [] as string[])) {
      if (cid.startsWith('.')) continue
      for (const name of await readdir(join(root, cid)).catch(() => [] as string[])) {
        if (!/^\d+$/.test(name)) continue
        const path = join(root, cid, name)
        const bytes = await readFile(path)
        if (bytes.length === 0) continue
        const at = Math.floor(bytes.length / 2)
        bytes[at] = (bytes[at] ?? 0) ^ 0x40
        await writeFile(path, bytes)
        files++
      }
    }
    return { files }
  }

  present = async (args: { sops: string[] }): Promise<{ present: string[] }> => {
    const present: string[] = []
    for (const sop of args.sops) {
      const found = await this.node.dicom.registry.instanceBySopUid(sop)
      if (found?.instance.file !== undefined) present.push(sop)
    }
    return { present }
  }
}
