/**
 * The feature index of a node and its indexer, on a real LevelDB with
 * synthetic DICOM series: features computed from the assembled slices,
 * virtual series waiting for their slices, versions, persistence, the
 * memory bound, and failures that leave nothing behind.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assembleVolume, sourcesFromDirectory } from '../../src/assembly/index.js'
import type { SeriesInfo, SliceProvider } from '../../src/imaging/types.js'
import { FeatureIndex, FeatureIndexer, FEATURES_SUBLEVEL, type IndexerInit } from '../../src/node/similarity/index.js'
import { decodeFeatures, encodeFeatures, extractFeatures, type Features } from '../../src/similarity/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'

const log = defaultLogger().forComponent('test:similarity-index')
const custodian = new Uint8Array(32).fill(7)

describe('feature index at ingest', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let db: Level<string, Uint8Array>
  const catalog = new Map<string, SeriesInfo>()
  const folders = new Map<string, string>()
  const onDisk = new Set<string>()
  let ensured: string[]
  let reads: string[]

  const slices: SliceProvider = {
    ensure: async (info) => {
      ensured.push(info.lfn)
      const folder = folders.get(info.lfn)
      if (folder === undefined) throw new Error('no slices')
      onDisk.add(info.lfn)
      return (await readdir(folder)).map(name => ({ name, path: join(folder, name) }))
    }
  }

  async function addSeries (lfn: string, seed: number, version = 1): Promise<void> {
    const folder = join(dir.path, `${lfn}-v${version}`)
    await writeSeries(folder, { modality: 'CT', rows: 32, columns: 32, slices: 8, seed, noiseSeed: seed + version })
    folders.set(lfn, folder)
    catalog.set(lfn, { lfn, version, modality: 'CT', bodyPart: 'CHEST', date: '20230115', instances: [], meta: {} })
  }

  function open (cacheBytes?: number, extra: Partial<IndexerInit> = {}): { index: FeatureIndex, indexer: FeatureIndexer } {
    const index = new FeatureIndex({
      db: db.sublevel<string, Uint8Array>(FEATURES_SUBLEVEL, { valueEncoding: 'view' }),
      custodian,
      contentIdOf: async (lfn, version) => lfn === 'lfn-a' && version === 1 ? 'cid-a-1' : undefined,
      onRead: lfn => { reads.push(lfn) },
      log,
      ...(cacheBytes === undefined ? {} : { cacheBytes })
    })
    const init: IndexerInit = {
      index,
      catalog: { describe: async lfn => catalog.get(lfn) },
      slices,
      slicesOnDisk: async lfn => onDisk.has(lfn),
      registered: async () => [...catalog.keys()],
      log,
      ...extra
    }
    return { index, indexer: new FeatureIndexer(init) }
  }

  async function expected (lfn: string): Promise<Features> {
    const { data, plan } = await assembleVolume(await sourcesFromDirectory(folders.get(lfn) as string))
    const f = extractFeatures({
      data, dims: plan.dims, affine: plan.geometry.affineLps, space: 'LPS', rescale: { slope: plan.scaling.sclSlope, intercept: plan.scaling.sclInter }, modality: 'CT', bodyPart: 'CHEST'
    })
    return decodeFeatures(encodeFeatures(f))
  }

  beforeEach(async () => {
    dir = await tempDir()
    db = new Level(join(dir.path, 'db'), { valueEncoding: 'view' })
    await db.open()
    catalog.clear(); folders.clear(); onDisk.clear()
    ensured = []
    reads = []
  })
  afterEach(async () => {
    await db.close()
    await dir.remove()
  })

  it('indexes a series whose slices are on disk, with its descriptor; a second request finds it current', async () => {
    await addSeries('lfn-a', 1)
    onDisk.add('lfn-a')
    const { index, indexer } = open()
    await index.open()
    expect(await indexer.enqueue('lfn-a')).toEqual({ lfn: 'lfn-a', status: 'indexed', version: 1 })
    expect(await indexer.enqueue('lfn-a')).toEqual({ lfn: 'lfn-a', status: 'current', version: 1 })
    expect(ensured).toEqual(['lfn-a'])
    const candidates = []
    for await (const c of index.candidates()) candidates.push(c)
    expect(candidates).toHaveLength(1)
    const c = candidates[0]!
    expect(c).toMatchObject({ lfn: 'lfn-a', modality: 'CT', bodyPart: 'CHEST', resource: { owner: custodian, custodian, contentId: 'cid-a-1', lfn: 'lfn-a', modality: 'CT', bodyPart: 'CHEST', date: '20230115' } })
    expect(reads).toEqual([])
    const f = await (c.features as () => Promise<Features>)()
    expect(reads).toEqual(['lfn-a'])
    const want = await expected('lfn-a')
    expect(f.keys).toEqual({ modality: 'CT', bodyPart: 'CHEST' })
    expect(Buffer.from(f.thumbnail.buffer).equals(Buffer.from(want.thumbnail.buffer))).toBe(true)
    expect(Array.from(f.histogram)).toEqual(Array.from(want.histogram))
    expect(index.stats()).toMatchObject({ series: 1, cached: 1, decoded: 0 })
    await indexer.close()
  })

  it('waits for a quiet node before indexing in the background (never longer than maxDeferMs); on demand it does not wait', async () => {
    await addSeries('lfn-q', 3)
    onDisk.add('lfn-q')
    let busy = true
    // Quiet means 2 s without serving: far above the 300 ms gap below, even when timers run late on a loaded machine.
    const { index, indexer } = open(undefined, { busy: () => busy, maxDeferMs: 60_000, quietMs: 2_000 })
    await index.open()
    const outcome = indexer.enqueue('lfn-q')
    await new Promise(resolve => setTimeout(resolve, 600))
    expect(ensured).toEqual([]) // the node is serving images: nothing read yet
    // A short gap between two images is not quiet enough.
    busy = false
    await new Promise(resolve => setTimeout(resolve, 300))
    busy = true
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(ensured).toEqual([])
    busy = false
    const quietFrom = Date.now()
    expect(await outcome).toMatchObject({ status: 'indexed' })
    expect(Date.now() - quietFrom).toBeGreaterThanOrEqual(1_950)
    expect(ensured).toEqual(['lfn-q'])
    // Busy for ever: bounded deferral.
    await addSeries('lfn-r', 4)
    onDisk.add('lfn-r')
    const bounded = open(undefined, { busy: () => true, maxDeferMs: 300 })
    expect(await bounded.indexer.enqueue('lfn-r')).toMatchObject({ status: 'indexed' })
    // On demand: no wait.
    await addSeries('lfn-s', 5)
    const demand = open(undefined, { busy: () => true, maxDeferMs: 60_000 })
    expect(await demand.indexer.enqueue('lfn-s', { fetch: true })).toMatchObject({ status: 'indexed' })
    // Nor behind a background job still deferring: that one runs at once.
    await addSeries('lfn-t', 6)
    onDisk.add('lfn-t')
    await addSeries('lfn-u', 7)
    const behind = open(undefined, { busy: () => true, maxDeferMs: 60_000 })
    const background = behind.indexer.enqueue('lfn-t')
    await new Promise(resolve => setTimeout(resolve, 300))
    const t0 = Date.now()
    expect(await behind.indexer.enqueue('lfn-u', { fetch: true })).toMatchObject({ status: 'indexed' })
    expect(await background).toMatchObject({ status: 'indexed' })
    expect(Date.now() - t0).toBeLessThan(5_000)
    await Promise.all([indexer.close(), bounded.indexer.close(), demand.indexer.close(), behind.indexer.close()])
  })

  it('leaves a virtual series until its slices are here or fetching is asked', async () => {
    await addSeries('lfn-v', 2)
    const { index, indexer } = open()
    await index.open()
    expect(await indexer.enqueue('lfn-v')).toMatchObject({ status: 'virtual' })
    expect(ensured).toEqual([])
    expect(index.size).toBe(0)
    // On demand (dm2 features index): slices fetched.
    expect(await indexer.enqueue('lfn-v', { fetch: true })).toMatchObject({ status: 'indexed', version: 1 })
    expect(ensured).toEqual(['lfn-v'])
    await indexer.close()
  })

  it('re-indexes a new version, drops series no longer registered, survives a reopen with a small memory bound', async () => {
    await addSeries('lfn-a', 1)
    await addSeries('lfn-b', 3)
    onDisk.add('lfn-a'); onDisk.add('lfn-b')
    let { index, indexer } = open()
    await index.open()
    expect((await indexer.reconcile()).map(o => o.status).sort()).toEqual(['indexed', 'indexed'])
    await addSeries('lfn-a', 1, 2)
    catalog.delete('lfn-b')
    const outcomes = await indexer.reconcile()
    expect(outcomes.find(o => o.lfn === 'lfn-a')).toMatchObject({ status: 'indexed', version: 2 })
    expect(outcomes.find(o => o.lfn === 'lfn-b')).toMatchObject({ status: 'unknown' })
    expect(index.lfns()).toEqual(['lfn-a'])
    index.setContentId('lfn-a', 2, 'cid-a-2')
    await indexer.close()

    // Reopened with room for no decoded features: each read decodes from LevelDB.
    ;({ index, indexer } = open(1))
    await index.open()
    expect(index.lfns()).toEqual(['lfn-a'])
    expect(index.version('lfn-a')).toBe(2)
    const first = await index.features('lfn-a')
    await index.features('lfn-a')
    expect(index.stats()).toMatchObject({ series: 1, cached: 0, decoded: 2 })
    const want = await expected('lfn-a')
    expect(Buffer.from(first.thumbnail.buffer).equals(Buffer.from(want.thumbnail.buffer))).toBe(true)
    // The content id is read again from the key store at open (none for v2 here): pending until prepared.
    for await (const c of index.candidates()) expect(c.resource.contentId).toBe('pending:lfn-a@2')
    expect(await index.warm(new AbortController().signal)).toBe(0)
    await indexer.close()
  })

  it('a series that cannot be assembled fails and stores nothing; a closed indexer refuses work', async () => {
    await addSeries('lfn-a', 1)
    catalog.set('lfn-x', { lfn: 'lfn-x', version: 1, modality: 'CT', instances: [], meta: {} })
    folders.set('lfn-x', join(dir.path, 'nowhere'))
    catalog.set('lfn-m', { lfn: 'lfn-m', version: 1, instances: [], meta: {} })
    onDisk.add('lfn-x')
    const { index, indexer } = open()
    await index.open()
    expect(await indexer.enqueue('lfn-x')).toMatchObject({ lfn: 'lfn-x', status: 'failed', reason: 'Error' })
    expect(await indexer.enqueue('lfn-m')).toMatchObject({ lfn: 'lfn-m', status: 'failed', reason: 'NoModality' })
    expect(await indexer.enqueue('nope')).toEqual({ lfn: 'nope', status: 'unknown' })
    expect(index.size).toBe(0)
    const keys = []
    for await (const k of db.sublevel(FEATURES_SUBLEVEL).keys()) keys.push(k)
    expect(keys).toEqual([])
    await indexer.close()
    expect(await indexer.enqueue('lfn-a', { fetch: true })).toMatchObject({ status: 'failed', reason: 'AbortError' })
    expect(ensured).toEqual(['lfn-x'])
  })

  it('refuses to store a malformed LFN or features', async () => {
    const { index } = open()
    await index.open()
    const f = await (async () => { await addSeries('lfn-a', 1); return await expected('lfn-a') })()
    await expect(index.put({ lfn: 'has space', version: 1, modality: 'CT', bodyPart: '' }, f)).rejects.toThrow(RangeError)
    await expect(index.put({ lfn: 'lfn-a', version: 1, modality: 'CT', bodyPart: '' }, { ...f, histogram: new Float32Array(3) })).rejects.toMatchObject({ name: 'InvalidFeaturesError' })
    expect(index.size).toBe(0)
  })
})
