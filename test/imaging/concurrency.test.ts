/**
 * Admission control and joining of preparations: many concurrent prepares of
 * different LFNs with a small N get some BusyError (status BUSY on the wire),
 * never a crash, and every success verifies; concurrent prepares of one LFN
 * share one build, so the PACS sees one fetch.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifySignedManifest } from '../../src/privacy/payload/index.js'
import type { PreparedImage } from '../../src/imaging/index.js'
import { tempDir } from '../helpers/tmp.js'
import { folderSlices, openSite, seriesInfo, writeTestSeries, type Site } from './helpers.js'

describe('image pipeline: admission control and joining', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let site: Site
  const pacs = { calls: 0, delayMs: 5 }

  beforeEach(async () => {
    tmp = await tempDir('dm2-imaging-')
    const seriesDir = join(tmp.path, 'pacs')
    const instances = await writeTestSeries(seriesDir)
    pacs.calls = 0
    site = await openSite({
      root: tmp.path,
      slices: folderSlices(seriesDir, pacs),
      series: (lfn) => seriesInfo(lfn, instances),
      engine: { maxConcurrentQueries: 3, maxQueuedQueries: 5, poolConcurrency: { pacs: 2 } }
    })
  })
  afterEach(async () => {
    await site.close()
    await tmp.remove()
  })

  it('120 concurrent prepares of different LFNs: some BUSY, no other error, every success verifies', async () => {
    const lfns = Array.from({ length: 120 }, (_, i) => `lfn-${i}`)
    let maxPacs = 0
    const outcomes = await Promise.allSettled(lfns.map(async (lfn) => {
      const prepared = await site.pipeline.prepare(lfn)
      maxPacs = Math.max(maxPacs, site.pipeline.stats().pools['pacs:HOSPITAL_A']?.running ?? 0)
      return prepared
    }))
    const ok = outcomes.filter((o): o is PromiseFulfilledResult<PreparedImage> => o.status === 'fulfilled').map(o => o.value)
    const errors = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map(o => o.reason as Error)
    expect(errors.length).toBeGreaterThan(0)
    expect(new Set(errors.map(e => e.name))).toEqual(new Set(['BusyError']))
    // 3 running + 5 queued are admitted at once; the rest arrive while they all still wait.
    expect(ok.length).toBe(8)
    expect(ok.length + errors.length).toBe(120)
    expect(site.pipeline.stats()).toMatchObject({ rejected: 112, completed: 8, failed: 0, running: 0, queued: 0 })
    expect(maxPacs).toBeLessThanOrEqual(2)
    for (const p of ok) {
      const manifest = await verifySignedManifest(p.manifest, { expectedMaster: site.master })
      expect(Buffer.from(manifest.merkleRoot).toString('hex')).toBe(p.contentId)
      expect(await site.keys.get(p.lfn, 1)).toMatchObject({ contentId: p.contentId })
      expect(await site.index.get(p.contentId)).toEqual({ lfn: p.lfn, version: 1 })
    }
    expect(new Set(ok.map(p => p.contentId)).size).toBe(8)
    expect(await readdir(site.scratch)).toEqual([])
    expect(await site.journalKeys()).toEqual([])

    // Refused callers retry once the load is gone: all are then served.
    const refused = lfns.filter((_, i) => outcomes[i]?.status === 'rejected').slice(0, 6)
    const retried = await Promise.all(refused.map(async (lfn) => await site.pipeline.prepare(lfn)))
    expect(retried.map(p => p.lfn)).toEqual(refused)
  })

  it('eight concurrent prepares of one LFN (all admitted: 3 running + 5 queued) cause one PACS fetch and share one image', async () => {
    pacs.delayMs = 20
    const steps: string[][] = Array.from({ length: 8 }, () => [])
    const results = await Promise.all(steps.map(async (seen) =>
      await site.pipeline.prepare('lfn-shared', { onProgress: (e) => { seen.push(e.step) } })))
    expect(pacs.calls).toBe(1)
    expect(new Set(results.map(r => r.contentId)).size).toBe(1)
    expect(new Set(results.map(r => Buffer.from(r.manifest).toString('hex'))).size).toBe(1)
    // The three running join one build; the queued ones find the image cached when admitted.
    expect(results.filter(r => !r.cached).length).toBe(3)
    expect(results.filter(r => r.cached).length).toBe(5)
    expect(site.pipeline.stats()).toMatchObject({ joined: 2, completed: 8, rejected: 0 })
    // Every caller admitted while the build ran saw its progress.
    const sawSlices = steps.filter(s => s.includes('slices')).length
    expect(sawSlices).toBeGreaterThanOrEqual(3)
    expect(site.cache.images.stats().puts).toBe(1)
  })
})
