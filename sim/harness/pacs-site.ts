/**
 * A hospital's PACS, simulated: our DICOM edge run standalone (its own
 * LevelDB, slice store and SCP serving C-FIND and C-GET), in a process of its
 * own as a PACS is its own server. Loaded once with synthetic series; it
 * outlives the hospital node's crashes.
 */
import { openStandaloneEdge, type StandaloneEdge } from '../../src/dicom/standalone.js'
import { hospitalLogger } from '../../src/log/index.js'

export interface PacsInit {
  name: string
  dir: string
  aeTitle: string
  port: number
}

export interface PacsCommands {
  status: () => Promise<{ name: string, series: number, rss: number, cpuUserMs: number, cpuSystemMs: number }>
  /** Imports series files (skips series already there) and registers each series. */
  pacsLoad: (args: { series: Array<{ series: string, files: string[] }> }) => Promise<{ loaded: number, skipped: number }>
}

/** Files imported at once. */
const LOAD_CONCURRENCY = 4

export class PacsSite implements PacsCommands {
  readonly init: PacsInit
  private readonly edge: StandaloneEdge

  private constructor (init: PacsInit, edge: StandaloneEdge) {
    this.init = init
    this.edge = edge
  }

  static async open (init: PacsInit): Promise<PacsSite> {
    const edge = await openStandaloneEdge({
      dataDir: init.dir,
      logger: hospitalLogger(init.name),
      aeTitle: init.aeTitle,
      scp: { host: '127.0.0.1', port: init.port },
      // A PACS keeps its archive durable by its own means; the simulator loads it once.
      options: { syncWrites: false }
    })
    return new PacsSite(init, edge)
  }

  async close (): Promise<void> {
    await this.edge.close()
  }

  status = async (): Promise<{ name: string, series: number, rss: number, cpuUserMs: number, cpuSystemMs: number }> => {
    const cpu = process.cpuUsage()
    return { name: this.init.name, series: (await this.edge.registry.list()).length, rss: process.memoryUsage().rss, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 }
  }

  pacsLoad = async (args: { series: Array<{ series: string, files: string[] }> }): Promise<{ loaded: number, skipped: number }> => {
    const edge = this.edge
    let loaded = 0
    let skipped = 0
    const queue = [...args.series]
    const worker = async (): Promise<void> => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        const known = await edge.registry.get(edge.registry.lfnOf(s.series))
        if (known !== undefined && known.state === 'registered' && known.present >= s.files.length) { skipped++; continue }
        for (const f of s.files) await edge.ingestor.importFile(f)
        await edge.registry.register(s.series)
        loaded++
      }
    }
    await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker))
    return { loaded, skipped }
  }
}
