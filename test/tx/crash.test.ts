import { spawn } from 'node:child_process'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { defaultLogger } from '@libp2p/logger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TxEngine } from '../../src/tx/index.js'
import { tempDir } from '../helpers/tmp.js'

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Crashed { txIds: Map<string, string>, pid: number, alive: boolean }

/** Runs the child until it reports READY, then kill -9s the process that runs the transactions. */
async function runAndKill (dbPath: string, scratch: string): Promise<Crashed> {
  const child = spawn('npx', ['tsx', CHILD, dbPath, scratch], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const txIds = new Map<string, string>()
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<void>((resolve) => { child.on('exit', () => { resolve() }) })
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`child not ready in time: ${stderr}`)) }, 25_000)
    let buffer = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      let nl: number
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const [word, a, b] = buffer.slice(0, nl).split(' ')
        buffer = buffer.slice(nl + 1)
        if (word === 'TX' && a !== undefined && b !== undefined) txIds.set(a, b)
        if (word === 'READY') {
          clearTimeout(timer)
          resolve(Number(a))
        }
      }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`child exited early (${code}): ${stderr}`)) })
  })
  // `npx tsx` runs the script in a grandchild node process: kill that one, the real owner of the journal.
  process.kill(pid, 'SIGKILL')
  await exited
  let alive = true
  try {
    process.kill(pid, 0)
  } catch {
    alive = false
  }
  return { txIds, pid, alive }
}

describe('tx engine: journal recovery after kill -9', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  beforeAll(async () => { tmp = await tempDir('dm2-tx-crash-') })
  afterAll(async () => { await tmp.remove() })

  it('rolls back the unfinished transactions of a killed process and resumes the resumable ones', async () => {
    const dbPath = join(tmp.path, 'db')
    const scratch = join(tmp.path, 'scratch')
    await mkdir(scratch)
    const crashed = await runAndKill(dbPath, scratch)
    expect(crashed.alive).toBe(false)
    expect(crashed.pid).not.toBe(process.pid)

    // The crash left residue behind: that is what recovery is for.
    const before = (await readdir(scratch)).sort()
    expect(before).toEqual(['joined.tmp', 'published-1.tmp', 'published-2.tmp', 'reserve.tmp',
      'slice1.tmp', 'slice2.tmp', 'slice3.tmp'])

    const db = new Level<string, string>(dbPath)
    await db.open()
    const journal = db.sublevel<string, string>('tx', {})
    try {
      expect((await journal.keys().all()).length).toBeGreaterThan(0)
      const engine = new TxEngine({ db: journal, logger: defaultLogger() })
      const removed: string[] = []
      engine.compensation<{ path: string }>('fs.rm', async ({ path }) => {
        removed.push(path.slice(scratch.length + 1))
        await rm(path, { force: true })
      })
      // After the restart the same resumable kind is registered: n=1 now completes, n=2 fails.
      engine.resumable<{ n: number }, void>('test.publish', async ({ n }, q) => {
        await q.tool('write', async () => {
          if (n === 2) throw new Error('target gone')
          await writeFile(join(scratch, `published-${n}.tmp`), 'again')
        })
      })

      const report = await engine.recover()
      expect(report.failed).toEqual([])
      expect(report.resumed).toEqual([crashed.txIds.get('publish-1')])
      // getImage, the joined fetch (its own journal entry), and publish-2 whose resumed run failed.
      expect(report.rolledBack).toHaveLength(3)
      expect(report.rolledBack).toEqual(expect.arrayContaining([crashed.txIds.get('getImage'), crashed.txIds.get('publish-2')]))
      expect(await readdir(scratch)).toEqual(['published-1.tmp'])
      expect(removed).toEqual(expect.arrayContaining(['reserve.tmp', 'slice1.tmp', 'slice2.tmp', 'slice3.tmp', 'joined.tmp', 'published-2.tmp']))
      // getImage's undo ran newest first: the reserved file (registered first) went last among its files.
      const ownFiles = removed.filter((f) => f === 'reserve.tmp' || f.startsWith('slice'))
      expect(ownFiles.at(-1)).toBe('reserve.tmp')
      expect(await journal.keys().all()).toEqual([])
      expect(await engine.recover()).toEqual({ rolledBack: [], resumed: [], failed: [] })
      await engine.close()
    } finally {
      await db.close()
    }
  })
})
