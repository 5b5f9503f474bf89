/**
 * A preparation that fails at any step leaves nothing behind: no work folder
 * in scratch, no image-cache entry, no data key, no content-index entry, no
 * journal entry; the caller gets one PrepareError naming the step; a retry
 * then succeeds.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifySignedManifest } from '../../src/privacy/payload/index.js'
import { tempDir } from '../helpers/tmp.js'
import { SERIES_SLICES, folderSlices, openSite, seriesInfo, writeTestSeries, type Site } from './helpers.js'

/** The error a promise rejects with; fails the test if it resolves. */
async function failure (p: Promise<unknown>): Promise<Error & { step?: string }> {
  try {
    await p
  } catch (err) {
    return err as Error & { step?: string }
  }
  throw new Error('expected a rejection')
}

describe('image pipeline: atomic preparation', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let site: Site
  let instances: string[]
  const pacs = { calls: 0, failAfter: undefined as number | undefined }
  let failIndex = false
  const announced: string[] = []

  beforeEach(async () => {
    tmp = await tempDir('dm2-imaging-')
    const seriesDir = join(tmp.path, 'pacs')
    instances = await writeTestSeries(seriesDir)
    pacs.calls = 0
    pacs.failAfter = undefined
    failIndex = false
    announced.length = 0
    site = await openSite({
      publish: async (input) => {
        announced.push(`${input.lfn}@${input.version}`)
        if (input.lfn === 'lfn-dht-down') throw new Error('no DHT peers')
      },
      root: tmp.path,
      slices: folderSlices(seriesDir, pacs),
      series: (lfn) => lfn.startsWith('lfn-') ? seriesInfo(lfn, instances) : undefined,
      indexPut: async () => { if (failIndex) throw new Error('disk full') }
    })
  })
  afterEach(async () => {
    await site.close()
    await tmp.remove()
  })

  async function expectNoResidue (lfn: string): Promise<void> {
    expect(await readdir(site.scratch)).toEqual([])
    expect(site.cache.images.has(lfn, 1)).toBe(false)
    expect(await site.cache.images.get(lfn, 1)).toBeUndefined()
    expect(await site.keys.get(lfn, 1)).toBeUndefined()
    expect(await site.indexKeys()).toEqual([])
    expect(await site.journalKeys()).toEqual([])
  }

  it('a PACS failing mid-series gives one PrepareError at "slices" and leaves no residue; a retry succeeds', async () => {
    pacs.failAfter = 3
    const seen: string[] = []
    const err = await failure(site.pipeline.prepare('lfn-1', { onProgress: (e) => { seen.push(e.step) } }))
    expect(err.name).toBe('PrepareError')
    expect(err.step).toBe('slices')
    expect(err.message).toContain('association aborted by the PACS')
    expect(seen.filter(s => s === 'slices')).toHaveLength(3)
    await expectNoResidue('lfn-1')
    expect(site.pipeline.stats()).toMatchObject({ failed: 1, completed: 0, running: 0 })

    pacs.failAfter = undefined
    const ok = await site.pipeline.prepare('lfn-1')
    expect(ok.cached).toBe(false)
    const manifest = await verifySignedManifest(ok.manifest, { expectedMaster: site.master })
    expect(Buffer.from(manifest.merkleRoot).toString('hex')).toBe(ok.contentId)
    expect(await site.keys.get('lfn-1', 1)).toMatchObject({ contentId: ok.contentId })
    expect(await site.index.get(ok.contentId)).toEqual({ lfn: 'lfn-1', version: 1 })
    expect(await readdir(site.scratch)).toEqual([])
    expect(await site.journalKeys()).toEqual([])
    expect(pacs.calls).toBe(2)

    const again = await site.pipeline.prepare('lfn-1')
    expect(again).toMatchObject({ cached: true, contentId: ok.contentId })
    expect(pacs.calls).toBe(2)
  })

  it('a slice whose pixel data is cut short fails at "assemble" (read while sealing) and leaves no residue', async () => {
    const last = join(tmp.path, 'pacs', instances[instances.length - 1] as string)
    const whole = await readFile(last)
    await writeFile(last, whole.subarray(0, whole.length - 1000))
    const err = await failure(site.pipeline.prepare('lfn-cut'))
    expect(err.name).toBe('PrepareError')
    expect(err.step).toBe('assemble')
    expect(err.message).toContain('truncated')
    await expectNoResidue('lfn-cut')
    await writeFile(last, whole)
    expect((await site.pipeline.prepare('lfn-cut')).cached).toBe(false)
  })

  it('a failure after the key and the image were committed undoes both ("commit")', async () => {
    failIndex = true
    const err = await failure(site.pipeline.prepare('lfn-2'))
    expect(err.name).toBe('PrepareError')
    expect(err.step).toBe('commit')
    expect(err.message).toContain('disk full')
    await expectNoResidue('lfn-2')
    expect(site.cache.images.stats()).toMatchObject({ entries: 0, bytes: 0, puts: 1, deletes: 1 })
  })

  it('announces each built version once, in the background; a DHT failure does not fail the preparation', async () => {
    const ok = await site.pipeline.prepare('lfn-dht-down')
    await site.pipeline.prepare('lfn-dht-down')
    await site.pipeline.settled()
    expect(ok.cached).toBe(false)
    expect(announced).toEqual(['lfn-dht-down@1'])
    expect(await site.keys.get('lfn-dht-down', 1)).toMatchObject({ contentId: ok.contentId })
  })

  it('an unknown LFN is refused before any work', async () => {
    const err = await failure(site.pipeline.prepare('other'))
    expect(err.name).toBe('UnknownLfnError')
    expect(pacs.calls).toBe(0)
    expect(site.pipeline.stats().completed + site.pipeline.stats().failed).toBe(0)
  })

  it('an aborted caller gets AbortError and leaves no residue', async () => {
    const controller = new AbortController()
    const run = site.pipeline.prepare('lfn-3', {
      signal: controller.signal,
      onProgress: (e) => { if (e.step === 'slices' && e.done === 2) controller.abort(new Error('caller left')) }
    })
    const err = await failure(run)
    expect(err.name).toBe('AbortError')
    await site.engine.close()
    await expectNoResidue('lfn-3')
    expect(SERIES_SLICES).toBeGreaterThan(2)
  })
})
