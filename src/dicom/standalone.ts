/**
 * The DICOM edge of a hospital composed on its own, from a data directory:
 * what `dm2 dicom …`, `dm2 register` and `dm2 series list` use until they
 * talk to a running node, and what tests use. The layout is the one the
 * hospital node must use too, so both see the same data:
 *
 *   <dataDir>/db/            LevelDB; the registry in sublevel `registry`
 *   <dataDir>/registry.key   site secret keying LFNs (0600)
 *   <dataDir>/dicom/         slice store (slices/, tmp/)
 */
import { join } from 'node:path'
import type { ComponentLogger } from '@libp2p/interface'
import { Level } from 'level'
import { DATABASE_DIR_NAME } from '../config/defaults.js'
import { Registry, SITE_SECRET_FILE_NAME, loadOrCreateSiteSecret, type SeriesRecord } from '../registry/index.js'
import { resolveDicomOptions, SLICE_STORE_DIR_NAME, type DicomOptions } from './constants.js'
import { Ingestor } from './ingest.js'
import { DicomScp } from './scp.js'
import { ScuPool, type PacsEndpoint } from './scu-pool.js'
import { SliceStore } from './slice-store.js'

/** Name of the registry's sublevel in the node's LevelDB. */
export const REGISTRY_SUBLEVEL = 'registry'

export interface StandaloneEdgeOptions {
  dataDir: string
  /** The node's open LevelDB (the registry takes its `registry` sublevel); opened here, and closed by `close()`, when absent. */
  db?: Level<string, Uint8Array>
  /** Slice store (scratch) folder; default `<dataDir>/dicom`. */
  sliceStoreDir?: string
  logger: ComponentLogger
  aeTitle: string
  /** Start the SCP on host:port (port 0: any free port). */
  scp?: { host: string, port: number }
  /** Create an SCU pool to this PACS. */
  pacs?: PacsEndpoint
  options?: DicomOptions
  quietPeriodMs?: number
  /** Record files a crash left stored but unregistered (see Ingestor.recover). Default true. */
  recover?: boolean
  /** Called when a series is registered or re-registered with a new version. */
  onRegistered?: (series: SeriesRecord) => void
}

export interface StandaloneEdge {
  db: Level<string, Uint8Array>
  registry: Registry
  store: SliceStore
  ingestor: Ingestor
  scp?: DicomScp
  pool?: ScuPool
  /** Stops everything started, in reverse order. */
  close: () => Promise<void>
}

export async function openStandaloneEdge (o: StandaloneEdgeOptions): Promise<StandaloneEdge> {
  const options = resolveDicomOptions(o.options)
  const own = o.db === undefined
  const db = o.db ?? new Level<string, Uint8Array>(join(o.dataDir, DATABASE_DIR_NAME), { valueEncoding: 'view' })
  await db.open()
  const closers: Array<() => Promise<void>> = own ? [async () => { await db.close() }] : []
  const close = async (): Promise<void> => { for (const c of closers.splice(0).reverse()) await c().catch(() => {}) }
  try {
    const registry = new Registry({
      db: db.sublevel<string, Uint8Array>(REGISTRY_SUBLEVEL, { valueEncoding: 'view' }),
      secret: await loadOrCreateSiteSecret(join(o.dataDir, SITE_SECRET_FILE_NAME)),
      logger: o.logger
    }, {
      ...(o.quietPeriodMs === undefined ? {} : { quietPeriodMs: o.quietPeriodMs }),
      ...(o.onRegistered === undefined ? {} : { onRegistered: o.onRegistered })
    })
    const store = new SliceStore({ dir: o.sliceStoreDir ?? join(o.dataDir, SLICE_STORE_DIR_NAME), maxInstanceBytes: options.maxInstanceBytes, sync: options.syncWrites })
    await store.init()
    closers.push(async () => { await store.close() })
    await registry.start()
    closers.push(async () => { await registry.stop() })
    const ingestor = new Ingestor({ store, registry, logger: o.logger })
    if (o.recover ?? true) await ingestor.recover()
    const edge: StandaloneEdge = { db, registry, store, ingestor, close }
    if (o.scp !== undefined) {
      const scp = new DicomScp({ logger: o.logger, registry, store, ingestor }, { aeTitle: o.aeTitle, host: o.scp.host, port: o.scp.port, options })
      await scp.start()
      closers.push(async () => { await scp.stop() })
      edge.scp = scp
    }
    if (o.pacs !== undefined) {
      const pool = new ScuPool({ logger: o.logger, ingestor, store, registry }, { aeTitle: o.aeTitle, pacs: o.pacs, options })
      closers.push(async () => { await pool.stop() })
      edge.pool = pool
    }
    return edge
  } catch (err) {
    await close()
    throw err
  }
}
