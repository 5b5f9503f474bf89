/**
 * A master site's image pipeline on real storage for the imaging tests: a
 * LevelDB (transaction journal, cache index, data keys, content index), the
 * node cache on disk, a synthetic CT series standing in for the PACS.
 */
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { NodeCache } from '../../src/cache/index.js'
import { ContentIndex, DataKeys, HotImages, ImagePipeline, type PublishInput, type SeriesInfo, type SliceProvider } from '../../src/imaging/index.js'
import { libp2pSigner } from '../../src/privacy/payload/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { TxEngine, type TxEngineInit } from '../../src/tx/index.js'

export const SERIES_SLICES = 8

/** Writes the synthetic series every LFN of a test maps to; returns its file names. */
export async function writeTestSeries (dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  await writeSeries(dir, { modality: 'CT', rows: 48, columns: 48, slices: SERIES_SLICES, seed: 11 })
  return (await readdir(dir)).filter(n => n.endsWith('.dcm')).sort()
}

export function seriesInfo (lfn: string, instances: string[], version = 1): SeriesInfo {
  return { lfn, version, modality: 'CT', bodyPart: 'HEART', instances, meta: { modality: 'CT' } }
}

/** A slice provider reading the series folder, counting calls; `failAfter` makes the "PACS" die mid-series. */
export function folderSlices (seriesDir: string, behaviour: { failAfter?: number, calls: number, delayMs?: number }): SliceProvider {
  return {
    ensure: async (info, { signal, onProgress, onFile }) => {
      behaviour.calls++
      const out: Array<{ name: string, path: string }> = []
      for (const name of info.instances) {
        signal?.throwIfAborted()
        if (behaviour.failAfter !== undefined && out.length >= behaviour.failAfter) throw new Error('association aborted by the PACS')
        if (behaviour.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, behaviour.delayMs))
        const file = { name, path: join(seriesDir, name) }
        out.push(file)
        onFile?.(file)
        onProgress?.({ done: out.length, total: info.instances.length })
      }
      return out
    }
  }
}

export interface Site {
  db: Level<string, Uint8Array>
  engine: TxEngine
  pipeline: ImagePipeline
  cache: NodeCache
  keys: DataKeys
  index: ContentIndex
  hot: HotImages
  scratch: string
  master: string
  publicKey: Uint8Array
  /** Everything left in the content index and the journal. */
  indexKeys: () => Promise<string[]>
  journalKeys: () => Promise<string[]>
  close: () => Promise<void>
}

export interface SiteOptions {
  root: string
  slices: SliceProvider
  series: (lfn: string) => SeriesInfo | undefined
  engine?: Partial<Omit<TxEngineInit, 'db' | 'logger'>>
  publish?: (input: PublishInput) => Promise<void>
  key?: PrivateKey
  /** Wraps the content index's storage, to inject a failure at commit. */
  indexPut?: (key: string) => Promise<void>
  /** Runs once the content index entry is written (the last effect of a preparation). */
  afterIndexPut?: (key: string) => Promise<void>
  /** Byte budget of the images served from memory while they commit (early answers). */
  hotBytes?: number
  /** Sealed chunk size (default: the payload's). */
  chunkSize?: number
}

export async function openSite (o: SiteOptions): Promise<Site> {
  const key = o.key ?? await generateKeyPair('Ed25519')
  const db = new Level<string, Uint8Array>(join(o.root, 'db'), { valueEncoding: 'view' })
  await db.open()
  const journal = db.sublevel<string, string>('tx-imaging', { valueEncoding: 'utf8' })
  const logger = defaultLogger()
  const engine = new TxEngine({ db: journal, logger, ...o.engine })
  const cache = new NodeCache({ directory: join(o.root, 'cache'), level: db.sublevel<string, Uint8Array>('cache', { valueEncoding: 'view' }), logger })
  await cache.open()
  const keys = new DataKeys(db.sublevel<string, Uint8Array>('data-keys', { valueEncoding: 'view' }))
  const indexDb = db.sublevel<string, Uint8Array>('content-index', { valueEncoding: 'view' })
  const index = new ContentIndex({
    get: async (k) => await indexDb.get(k),
    put: async (k, v) => { await o.indexPut?.(k); await indexDb.put(k, v); await o.afterIndexPut?.(k) },
    del: async (k) => { await indexDb.del(k) }
  })
  const scratch = join(o.root, 'scratch')
  await mkdir(scratch, { recursive: true })
  const master = peerIdFromPrivateKey(key).toString()
  const hot = new HotImages(o.hotBytes)
  const pipeline = new ImagePipeline({
    engine,
    site: 'HOSPITAL_A',
    catalog: { describe: async (lfn) => o.series(lfn) },
    slices: o.slices,
    images: cache.images,
    keys,
    index,
    signer: libp2pSigner(key),
    master,
    publish: o.publish ?? (async () => {}),
    scratch,
    log: logger.forComponent('dm2:imaging:test'),
    hot,
    ...(o.chunkSize === undefined ? {} : { chunkSize: o.chunkSize })
  })
  return {
    db,
    engine,
    pipeline,
    cache,
    keys,
    index,
    hot,
    scratch,
    master,
    publicKey: key.publicKey.raw,
    indexKeys: async () => await indexDb.keys().all(),
    journalKeys: async () => await journal.keys().all(),
    close: async () => {
      await engine.close()
      await cache.close()
      await db.close()
    }
  }
}
