/**
 * The paper's experiment, quick variant (10 s window, 1 and 2 hospitals, every
 * site on 100 Mbit/s): real hospital processes, PACS processes and shaped
 * links. It must solve queries, never more than the links allow, and report
 * the paper's figure beside its own.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killAllSites } from '../../sim/harness/processes.js'
import { run } from '../../sim/scenarios/paper-fig4b.js'
import { tempDir } from '../helpers/tmp.js'

describe('sim paper-fig4b --quick', () => {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined
  afterAll(async () => {
    killAllSites()
    await dir?.remove()
  })

  it('solves getImage queries within the link ceiling, next to the paper\'s figures', async () => {
    dir = await tempDir('dm2-sim-fig4b-test-')
    const code = await run(['--quick', '--out', dir.path])
    expect(code).toBe(0)
    const result = JSON.parse(await readFile(join(dir.path, 'paper-fig4b.json'), 'utf8')) as {
      scenario: string
      rows: Array<{ hospitals: number, solved45s: number, ceiling45s: number, paper45s: number | null }>
      details: Array<{ wireMBPerImage: number, failed: number }>
    }
    expect(result.scenario).toBe('paper-fig4b')
    expect(result.rows.map(r => r.hospitals)).toEqual([1, 2])
    for (const row of result.rows) {
      expect(row.solved45s).toBeGreaterThan(0)
      expect(row.solved45s).toBeLessThanOrEqual(row.ceiling45s)
      // 12.5 MB/s × 10 s over ~1.58 MB per image.
      expect(row.ceiling45s).toBeGreaterThan(60)
      expect(row.ceiling45s).toBeLessThan(90)
    }
    expect(result.rows[0]?.paper45s).toBe(26.3)
    // Each image carries its 1.5 MB of voxels (3 × 512 × 512 × 16 bit) plus a little protocol.
    for (const d of result.details) {
      expect(d.wireMBPerImage).toBeGreaterThan(1.5)
      expect(d.wireMBPerImage).toBeLessThan(1.8)
      expect(d.failed).toBe(0)
    }
    const svg = await readFile(join(dir.path, 'paper-fig4b.svg'), 'utf8')
    expect(svg).toContain('<svg')
  }, 240_000)
})
