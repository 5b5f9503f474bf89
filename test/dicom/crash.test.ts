/**
 * kill -9 of a process running the SCP in the middle of a C-STORE burst,
 * then a restart: every instance acknowledged with success is present and
 * registered, and no half-written file is visible.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prefixLogger } from '@libp2p/logger'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASE_DIR_NAME } from '../../src/config/defaults.js'
import { REGISTRY_SUBLEVEL, SLICE_STORE_DIR_NAME, SliceStore, inspectFile, storeProposal } from '../../src/dicom/index.js'
import { Registry, SITE_SECRET_FILE_NAME, loadOrCreateSiteSecret } from '../../src/registry/index.js'
import { writeSeries, type GeneratedSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { DicomAssociation } from './helpers/dicom.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CHILD = fileURLToPath(new URL('./fixtures/scp-child.ts', import.meta.url))
const QUIET_MS = 200

interface Child { process: ChildProcess, port: number }

const children = new Set<ChildProcess>()

/** Starts the SCP in its own process group (`npx tsx`), so kill -9 reaches the node process itself. */
async function startChild (dir: string): Promise<Child> {
  const child = spawn('npx', ['tsx', CHILD, dir, '0', JSON.stringify({ quietPeriodMs: QUIET_MS })], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`SCP child did not start: ${err}`)) }, 30_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /PORT (\d+)/.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(Number(m[1])) }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`SCP child exited (${String(code)}): ${err}`)) })
  })
  return { process: child, port }
}

async function killGroup (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  try { process.kill(-child.pid, signal) } catch {}
  await exited
}

describe('crash safety of C-STORE', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let series: GeneratedSeries

  beforeAll(async () => {
    tmp = await tempDir('dm2-crash-')
    series = await writeSeries(join(tmp.path, 'series'), { modality: 'CT', rows: 256, columns: 256, slices: 120, seed: 9 })
  })
  afterAll(async () => {
    await Promise.all([...children].map(async c => { await killGroup(c, 'SIGKILL') }))
    await tmp?.remove()
  })

  it('keeps every acknowledged instance and registers it after a restart', async () => {
    const nodeDir = join(tmp.path, 'node')
    const first = await startChild(nodeDir)
    const files = series.files.map((f, k) => ({
      path: join(tmp.path, 'series', f.name),
      sopClassUid: series.meta.sopClassUID,
      sopInstanceUid: series.meta.sopInstanceUIDs[series.meta.fileNames.indexOf(f.name)] ?? String(k),
      transferSyntaxUid: series.meta.transferSyntaxUID
    }))
    const assoc = await DicomAssociation.open({
      host: '127.0.0.1',
      port: first.port,
      callingAeTitle: 'MODALITY',
      calledAeTitle: 'DM2',
      proposal: storeProposal(files),
      connectTimeoutMs: 10_000,
      associationTimeoutMs: 10_000,
      pduTimeoutMs: 10_000,
      maxPduLength: 65536,
      requestTimeoutMs: 10_000
    })
    const acked: string[] = []
    // The burst's failure is taken as a value at once: it happens while the test awaits the kill.
    const burst = (async () => {
      for (const f of files) {
        await assoc.store(f)
        acked.push(f.sopInstanceUid)
      }
    })().then(() => undefined, (err: unknown) => err as Error)
    await waitFor(() => acked.length >= 25, 30_000, '25 acknowledged instances')
    await killGroup(first.process, 'SIGKILL')
    expect((await burst)?.name).toMatch(/DicomNetworkError|AssociationAbortedError/)
    expect(acked.length).toBeLessThan(files.length)

    const second = await startChild(nodeDir)
    await new Promise(resolve => setTimeout(resolve, QUIET_MS * 5))
    await killGroup(second.process, 'SIGTERM')

    // SIGTERM reaches npx and the node process at once; npx may exit before
    // the node process has closed its database and released the LOCK.
    const db = new Level<string, Uint8Array>(join(nodeDir, DATABASE_DIR_NAME), { valueEncoding: 'view' })
    await waitFor(async () => await db.open().then(() => true, () => false), 10_000, 'the database lock released')
    try {
      const registry = new Registry({
        db: db.sublevel<string, Uint8Array>(REGISTRY_SUBLEVEL, { valueEncoding: 'view' }),
        secret: await loadOrCreateSiteSecret(join(nodeDir, SITE_SECRET_FILE_NAME)),
        logger: prefixLogger('check')
      })
      const lfn = registry.lfnOf(series.meta.seriesInstanceUID)
      const s = await registry.get(lfn)
      expect(s?.state).toBe('registered')
      expect(s?.present).toBeGreaterThanOrEqual(acked.length)
      const store = new SliceStore({ dir: join(nodeDir, SLICE_STORE_DIR_NAME), maxInstanceBytes: 1 << 30 })
      const byUid = new Map((await registry.instances(lfn)).map(i => [i.sopInstanceUid, i]))
      for (const uid of acked) {
        const i = byUid.get(uid)
        expect(i?.file, uid).toBeDefined()
        expect(inspectFile(store.absolute(i?.file ?? '')).sopInstanceUid).toBe(uid)
      }
      // No half-written file: every stored file is whole, and no temporary file is left.
      for (const rel of await store.list()) expect(() => inspectFile(store.absolute(rel))).not.toThrow()
      expect(await store.temps()).toEqual([])
    } finally {
      await db.close()
    }
  })
})
