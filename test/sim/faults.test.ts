/**
 * The fault scenario, quick variant (one seed, three hospitals): a hospital
 * killed and restarted, a partition, a slow link and corrupt replica chunks,
 * under load; every invariant must hold and each fault must have been seen
 * and recovered from.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killAllSites } from '../../sim/harness/processes.js'
import { run } from '../../sim/scenarios/faults.js'
import { tempDir } from '../helpers/tmp.js'

describe('sim faults --quick', () => {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined
  afterAll(async () => {
    killAllSites()
    await dir?.remove()
  })

  it('detects and recovers from every fault, and every invariant holds', async () => {
    dir = await tempDir('dm2-sim-faults-test-')
    const code = await run(['--quick', '--out', dir.path])
    const result = JSON.parse(await readFile(join(dir.path, 'faults.json'), 'utf8')) as {
      pass: boolean
      invariants: Array<{ invariant: string, pass: boolean, detail: string }>
      rows: Array<{ fault: string, detectMs: number | null, recoverMs: number | null, failed: number, timedOut: number, errors: string }>
    }
    expect(result.invariants.filter(i => !i.pass)).toEqual([])
    expect(result.invariants.map(i => i.invariant)).toEqual(expect.arrayContaining([
      'every answered getImage is byte-correct',
      'acknowledged C-STOREs survive a crash',
      'no access without a valid SAC',
      'the federation heals (DHT, replication factor, every master serving, every site answering)'
    ]))
    expect(result.pass).toBe(true)
    expect(code).toBe(0)
    expect(result.rows.map(r => r.fault)).toEqual(['kill hospital', 'restart hospital', 'partition', 'slow link', 'corrupt chunks'])
    for (const row of result.rows) {
      expect(row.detectMs, row.fault).not.toBeNull()
      expect(row.recoverMs, row.fault).not.toBeNull()
    }
    // A corrupt replica is routed around: nothing fails because of it. Only a deadline may pass, on
    // a machine loaded far beyond its cores (seen with four busy loops beside the tests on two).
    const corrupt = result.rows[4]
    expect(corrupt?.failed, corrupt?.errors).toBe(corrupt?.timedOut)
  }, 240_000)
})
