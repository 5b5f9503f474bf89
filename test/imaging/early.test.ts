/**
 * Early answers (PrepareOptions.early): a requester fetching over the network
 * gets the manifest as soon as the image can be served (key stored, sealed
 * chunks held in memory), while the commit to the image cache finishes in
 * the background; a failure after the answer still leaves nothing behind.
 */
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { imageChunkStore } from '../../src/imaging/index.js'
import { chunkCount, verifySignedManifest } from '../../src/privacy/payload/index.js'
import { tempDir } from '../helpers/tmp.js'
import { folderSlices, openSite, seriesInfo, writeTestSeries, type Site } from './helpers.js'

/** A gate the commit waits at (before its content index write, its last), opened by the test. */
function gate (): { wait: () => Promise<void>, open: () => void, reached: Promise<void> } {
  let open!: () => void
  let reached!: () => void
  const opened = new Promise<void>(resolve => { open = resolve })
  const at = new Promise<void>(resolve => { reached = resolve })
  return { wait: async () => { reached(); await opened }, open, reached: at }
}

describe('image pipeline: early answers', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let instances: string[]
  let seriesDir: string
  const sites: Site[] = []
  let commit = gate()
  let failIndex = false

  beforeEach(async () => {
    tmp = await tempDir('dm2-early-')
    seriesDir = join(tmp.path, 'pacs')
    instances = await writeTestSeries(seriesDir)
    commit = gate()
    failIndex = false
  })
  afterEach(async () => {
    commit.open()
    for (const s of sites.splice(0)) await s.close()
    await tmp.remove()
  })

  async function site (hotBytes?: number, chunkSize?: number): Promise<Site> {
    const s = await openSite({
      ...(chunkSize === undefined ? {} : { chunkSize }),
      root: join(tmp.path, `site-${sites.length}`),
      slices: folderSlices(seriesDir, { calls: 0 }),
      series: (lfn) => seriesInfo(lfn, instances),
      indexPut: async () => {
        await commit.wait()
        if (failIndex) throw new Error('disk full')
      },
      ...(hotBytes === undefined ? {} : { hotBytes })
    })
    sites.push(s)
    return s
  }

  it('answers once the image can be served; its chunks come from memory until the commit ends, then from the cache', async () => {
    const s = await site()
    const answer = await s.pipeline.prepare('lfn-1', { early: true })
    // The commit is still held at its gate (its last write, the content index): the key and the chunks are served.
    await commit.reached
    expect(answer.cached).toBe(false)
    expect(await s.index.get(answer.contentId)).toBeUndefined()
    expect(s.hot.entry(answer.contentId)).toEqual({ lfn: 'lfn-1', version: 1 })
    expect(await s.keys.get('lfn-1', 1)).toMatchObject({ contentId: answer.contentId })
    const manifest = await verifySignedManifest(answer.manifest, { expectedMaster: s.master })
    const store = imageChunkStore(s.cache.images, s.index, s.hot)
    const cid = new Uint8Array(Buffer.from(answer.contentId, 'hex'))
    expect(await store.has(cid)).toBe(true)
    const reader = await store.open?.(cid)
    for (const [i, chunk] of manifest.chunks.entries()) {
      const bytes = await reader?.read(i) as Uint8Array
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(Buffer.from(chunk.id).toString('hex'))
    }
    reader?.close()
    expect(s.hot.heldBytes).toBeGreaterThan(0)

    commit.open()
    await s.pipeline.settled()
    expect(s.cache.images.has('lfn-1', 1)).toBe(true)
    expect(await s.index.get(answer.contentId)).toEqual({ lfn: 'lfn-1', version: 1 })
    expect(s.hot.heldBytes).toBe(0)
    expect(s.hot.entry(answer.contentId)).toBeUndefined()
    expect(await readdir(s.scratch)).toEqual([])
    expect(await s.journalKeys()).toEqual([])
    // Served from the cache's files now, the same bytes.
    const fromDisk = await store.open?.(cid)
    expect(Buffer.compare(await fromDisk?.read(0) as Uint8Array, await (await imageChunkStore(s.cache.images, s.index).open?.(cid))?.read(0) as Uint8Array)).toBe(0)
    fromDisk?.close()
    expect(await s.pipeline.prepare('lfn-1', { early: true })).toMatchObject({ cached: true, contentId: answer.contentId })
  })

  it('a failure after the early answer undoes everything, the key and the chunks held in memory included', async () => {
    const s = await site()
    failIndex = true
    const answer = await s.pipeline.prepare('lfn-2', { early: true })
    expect(await s.keys.get('lfn-2', 1)).toBeDefined()
    commit.open()
    await s.pipeline.settled()
    expect(await s.keys.get('lfn-2', 1)).toBeUndefined()
    expect(s.hot.entry(answer.contentId)).toBeUndefined()
    expect(s.hot.heldBytes).toBe(0)
    expect(s.cache.images.has('lfn-2', 1)).toBe(false)
    expect(await s.indexKeys()).toEqual([])
    expect(await s.journalKeys()).toEqual([])
    expect(await readdir(s.scratch)).toEqual([])
    expect(await imageChunkStore(s.cache.images, s.index, s.hot).has(new Uint8Array(Buffer.from(answer.contentId, 'hex')))).toBe(false)
    // A retry builds it again.
    failIndex = false
    expect((await s.pipeline.prepare('lfn-2')).cached).toBe(false)
  })

  it('once answered, the caller leaving does not abort the commit', async () => {
    const s = await site()
    const caller = new AbortController()
    const answer = await s.pipeline.prepare('lfn-3', { early: true, signal: caller.signal })
    caller.abort(new Error('requester went away'))
    commit.open()
    await s.pipeline.settled()
    expect(s.cache.images.has('lfn-3', 1)).toBe(true)
    expect(await s.keys.get('lfn-3', 1)).toMatchObject({ contentId: answer.contentId })
  })

  it('an image beyond the memory budget is answered only once committed', async () => {
    const s = await site(1024)
    commit.open()
    const answer = await s.pipeline.prepare('lfn-4', { early: true })
    expect(s.cache.images.has('lfn-4', 1)).toBe(true)
    expect(await s.index.get(answer.contentId)).toEqual({ lfn: 'lfn-4', version: 1 })
    expect(s.hot.heldBytes).toBe(0)
  })

  it('a caller watching the build sees each chunk as it is sealed, before the answer: the very chunks its manifest lists', async () => {
    const s = await site(undefined, 16 * 1024)
    commit.open()
    const seen: Array<{ index: number, id: string, total: number, version: number }> = []
    let answered = false
    const answer = await s.pipeline.prepare('lfn-6', {
      early: true,
      onSealed: (chunk, layout, version) => {
        expect(answered).toBe(false)
        seen.push({ index: chunk.index, id: createHash('sha256').update(chunk.bytes).digest('hex'), total: chunkCount(layout), version })
      }
    })
    answered = true
    const manifest = await verifySignedManifest(answer.manifest, { expectedMaster: s.master })
    expect(manifest.chunks.length).toBeGreaterThan(1)
    expect(seen).toEqual(manifest.chunks.map((c, index) => ({ index, id: Buffer.from(c.id).toString('hex'), total: manifest.chunks.length, version: 1 })))
    // A cached image is not sealed again: nothing to see. A watcher's bug does not fail the build.
    await s.pipeline.settled()
    const again: number[] = []
    expect((await s.pipeline.prepare('lfn-6', { early: true, onSealed: (c) => { again.push(c.index) } })).cached).toBe(true)
    expect(again).toEqual([])
    expect((await s.pipeline.prepare('lfn-7', { early: true, onSealed: () => { throw new Error('watcher bug') } })).cached).toBe(false)
  })

  it('an image beyond the memory budget is not shown chunk by chunk (it is not held for an early answer)', async () => {
    const s = await site(1024, 16 * 1024)
    commit.open()
    const seen: number[] = []
    await s.pipeline.prepare('lfn-8', { early: true, onSealed: (c) => { seen.push(c.index) } })
    expect(seen).toEqual([])
  })

  it('callers without early still wait for the commit', async () => {
    const s = await site()
    let answered = false
    const run = s.pipeline.prepare('lfn-5').then(r => { answered = true; return r })
    await commit.reached
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(answered).toBe(false)
    commit.open()
    await run
    expect(s.cache.images.has('lfn-5', 1)).toBe(true)
  })
})
