/**
 * kill -9 of a master site in the middle of a getImage, then a restart: the
 * master's journal rolls the unfinished preparation back (no work folder,
 * no fetched slice, no image, no open transaction), it announces its series
 * again, and the requester's retry succeeds with the right volume.
 *
 * Hospital A runs as a real `dm2 node` process with a real Orthanc as its
 * PACS, slowed down by a proxy so the kill lands while slices are flowing;
 * hospital C runs in this process.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getImage } from '../../src/api/get-image.js'
import { Wallet } from '../../src/api/wallet.js'
import { readNifti, writeVolume } from '../../src/assembly/index.js'
import { loadConfig } from '../../src/config/load.js'
import { IDENTITY_FILE_NAME } from '../../src/config/defaults.js'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { createHospitalNode, type HospitalNode } from '../../src/node/index.js'
import { generateSigner, issueCertificate, signerFromSeed } from '../../src/sac/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { killAllCli, runCli, startCli, type RunningCli } from '../helpers/cli.js'
import { startOrthanc, type RunningOrthanc } from '../dicom/helpers/orthanc.js'
import { killAll } from '../dicom/helpers/tools.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('kill -9 of the master during a getImage', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let orthanc: RunningOrthanc
  let proxy: TcpProxy
  let c: HospitalNode
  let aNode: RunningCli | undefined
  let aDir: string
  let aConfig: string
  let aSeed: Uint8Array
  let aPeer: string
  const doctor = generateSigner()

  beforeAll(async () => {
    dir = await tempDir()
    orthanc = await startOrthanc({ dir: join(dir.path, 'orthanc') })
    proxy = await startTcpProxy({ host: '127.0.0.1', port: orthanc.dicomPort })
    aDir = join(dir.path, 'hospital-a')
    const cDir = join(dir.path, 'hospital-c')
    const aId = await loadOrCreateIdentity(join(aDir, IDENTITY_FILE_NAME))
    const cId = await loadOrCreateIdentity(join(cDir, IDENTITY_FILE_NAME))
    aSeed = aId.privateKey.raw.subarray(0, 32)
    aPeer = aId.peerId.toString()
    const members = [aId.peerId.toString(), cId.peerId.toString()]
    c = createHospitalNode(await loadConfig({
      env: {},
      cwd: cDir,
      overrides: [
        { path: ['name'], value: 'hospital-c', source: 'test' },
        { path: ['dataDir'], value: cDir, source: 'test' },
        { path: ['listen'], value: ['/ip4/127.0.0.1/tcp/0'], source: 'test' },
        { path: ['members'], value: members, source: 'test' },
        { path: ['dicom', 'port'], value: 0, source: 'test' }
      ]
    }))
    await c.start()
    aConfig = join(aDir, 'dm2.json')
    await writeFile(aConfig, JSON.stringify({
      name: 'hospital-a',
      dataDir: aDir,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [c.getMultiaddrs()[0]?.toString()],
      members,
      dicom: { aeTitle: 'HOSPITAL_A', host: '127.0.0.1', port: 0 },
      pacs: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: proxy.port }
    }))
  }, 120_000)
  afterAll(async () => {
    killAllCli()
    await c?.stop()
    await proxy?.stop()
    await orthanc?.stop()
    await killAll()
    await dir?.remove()
  })

  async function startA (): Promise<RunningCli> {
    const node = startCli(['node', '--config', aConfig, '--log-level', 'silent'])
    await node.waitForOutput(/listening: \/ip4\/127\.0\.0\.1\/tcp\/\d+/, 60_000)
    return node
  }

  function wallet (): Wallet {
    const s = Math.floor(Date.now() / 1000)
    const grant = issueCertificate({ audience: doctor.publicKey, resource: { selector: {} }, abilities: ['image/read'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }, signerFromSeed(aSeed))
    return new Wallet({ signer: doctor, certificates: [grant.bytes] })
  }

  async function journalOfA (): Promise<{ tx: string[], images: number }> {
    const db = new Level<string, Uint8Array>(join(aDir, 'db'), { valueEncoding: 'view' })
    await db.open()
    try {
      const tx: string[] = []
      for await (const key of db.sublevel<string, string>('tx', { valueEncoding: 'utf8' }).keys()) tx.push(key)
      let images = 0
      for await (const key of db.sublevel<string, Uint8Array>('data-keys', { valueEncoding: 'view' }).keys()) { images += key.length > 0 ? 1 : 0 }
      return { tx, images }
    } finally {
      await db.close()
    }
  }

  it('rolls the preparation back at restart; the retry succeeds', async () => {
    // A series only in A's PACS, registered virtually while A is not running.
    const slices = join(dir.path, 'series')
    const series = await writeSeries(slices, { modality: 'CT', rows: 128, columns: 128, slices: 24, seed: 31 })
    for (const f of await readdir(slices)) await orthanc.upload(join(slices, f))
    const registered = await runCli(['dicom', 'get', '--virtual', '--study', series.meta.studyInstanceUID, '--series', series.meta.seriesInstanceUID, '--config', aConfig], { DM2_LOG_LEVEL: 'silent' })
    expect(registered.code, registered.stderr).toBe(0)
    const lfn = /registered (\S+) v1/.exec(registered.stdout)?.[1] as string
    expect(lfn).toBeDefined()

    aNode = await startA()
    // Announced again at start-up, found by C.
    await waitFor(async () => await c.localization.resolveLfn(lfn, { fresh: true }).then(() => true, () => false), 30_000, 'A to announce its series')

    proxy.reset()
    proxy.delay(60) // the PACS trickles: the kill lands mid-series
    const attempt = getImage(c, wallet(), lfn, { out: join(dir.path, 'first.nii') }).then(() => undefined, (e: unknown) => e as Error)
    await waitFor(() => proxy.received > 50_000, 30_000, 'slices to flow from the PACS to A')
    aNode.child.kill('SIGKILL')
    await aNode.stop('SIGKILL')
    const err = await attempt
    expect(err).toMatchObject({ name: 'GetImageError', step: 'prepare' })

    // What the killed process left: an unfinished transaction in its journal, and some slices.
    const left = await journalOfA()
    expect(left.tx.length).toBeGreaterThan(0)
    expect(left.images).toBe(0)

    proxy.delay(0)
    aNode = await startA()
    // Start-up recovery undid it all: no work folder, no slice fetched by the dead preparation.
    await waitFor(async () => (await readdir(join(aDir, 'scratch')).catch(() => [])).length === 0, 20_000, 'the scratch space to be empty')
    expect(await readdir(join(aDir, 'dicom', 'slices', lfn)).catch(() => [])).toEqual([])
    // A listens on a new port now: C learns it when A rejoins (as a user sees "A is back").
    await waitFor(() => c.libp2p.getConnections().some(conn => conn.remotePeer.toString() === aPeer), 30_000, 'A to rejoin C')

    const out = join(dir.path, 'retried.nii')
    await getImage(c, wallet(), lfn, { out })
    const reference = join(dir.path, 'reference.nii')
    await writeVolume(slices, reference, { sidecar: false })
    const got = readNifti(new Uint8Array(await readFile(out)))
    const want = readNifti(new Uint8Array(await readFile(reference)))
    expect(got.dims).toEqual(want.dims)
    expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength)
      .equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength))).toBe(true)

    // Stopped cleanly, A's journal holds nothing unfinished; its image is committed.
    expect((await aNode.stop('SIGTERM')).code).toBe(0)
    aNode = undefined
    expect(await journalOfA()).toEqual({ tx: [], images: 1 })
  }, 240_000)
})
