/**
 * kill -9 during a preparation, then restart: `engine.recover()` rolls back
 * what the crashed process left (work folder, image-cache entry, data key,
 * content index), and a retry succeeds.
 */
import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifySignedManifest } from '../../src/privacy/payload/index.js'
import { tempDir } from '../helpers/tmp.js'
import { folderSlices, openSite, seriesInfo, writeTestSeries } from './helpers.js'

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Runs the child until READY, then kill -9s the node process that owns the journal (npx tsx spawns a grandchild). */
async function runAndKill (root: string, seriesDir: string): Promise<void> {
  const child = spawn('npx', ['tsx', CHILD, root, seriesDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<void>((resolve) => { child.on('exit', () => { resolve() }) })
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`child not ready in time: ${stderr}`)) }, 25_000)
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /READY (\d+)\n/.exec(out)
      if (m?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`child exited early (${code}): ${stderr}`)) })
  })
  process.kill(pid, 'SIGKILL')
  await exited
}

describe('image pipeline: crash safety', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => { tmp = await tempDir('dm2-imaging-crash-') })
  afterAll(async () => { await tmp.remove() })

  it('rolls back a killed preparation at start-up; a retry succeeds', async () => {
    const seriesDir = join(tmp.path, 'pacs')
    const instances = await writeTestSeries(seriesDir)
    await runAndKill(tmp.path, seriesDir)

    const pacs = { calls: 0 }
    const site = await openSite({ root: tmp.path, slices: folderSlices(seriesDir, pacs), series: (lfn) => seriesInfo(lfn, instances) })
    try {
      // The crash left residue: two work folders, and the written-but-uncommitted image, key and index entry.
      expect((await readdir(site.scratch)).filter(n => n.startsWith('prepare-'))).toHaveLength(2)
      expect(site.cache.images.has('lfn-hang-commit', 1)).toBe(true)
      const stale = await site.keys.get('lfn-hang-commit', 1)
      expect(stale).toBeDefined()
      expect(await site.indexKeys()).toEqual([stale?.contentId])
      expect((await site.journalKeys()).length).toBeGreaterThan(0)

      const report = await site.engine.recover()
      expect(report.failed).toEqual([])
      expect(report.resumed).toEqual([])
      // Two queries and their two joined builds (each journals its own entry until handed over).
      expect(report.rolledBack.length).toBeGreaterThanOrEqual(2)
      expect(await readdir(site.scratch)).toEqual([])
      expect(site.cache.images.has('lfn-hang-commit', 1)).toBe(false)
      expect(await site.keys.get('lfn-hang-commit', 1)).toBeUndefined()
      expect(await site.indexKeys()).toEqual([])
      expect(await site.journalKeys()).toEqual([])

      const [a, b] = await Promise.all([site.pipeline.prepare('lfn-hang-commit'), site.pipeline.prepare('lfn-hang-slices')])
      for (const p of [a, b]) {
        expect(p?.cached).toBe(false)
        const manifest = await verifySignedManifest(p?.manifest ?? new Uint8Array(), { expectedMaster: site.master })
        expect(Buffer.from(manifest.merkleRoot).toString('hex')).toBe(p?.contentId)
      }
      expect(a?.contentId).not.toBe(stale?.contentId)
      expect(pacs.calls).toBe(2)
      expect(await site.journalKeys()).toEqual([])
    } finally {
      await site.close()
    }
  })
})
