/**
 * `dm2 query`, `dm2 get` and `dm2 status` as a user runs them: the real
 * command in a child process, talking to a running node over its control
 * socket, with the user's key file and certificate chain files.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientControlHandlers } from '../../src/api/index.js'
import { readNifti, writeVolume } from '../../src/assembly/index.js'
import { CHAIN_FILE_FORMAT } from '../../src/cli/sac.js'
import { waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { createKeyFile, issueCertificate } from '../../src/sac/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { killAllCli, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

// Each test starts several dm2 processes: room for a loaded machine beyond the default 30 s.
describe('dm2 query | get | status against a running node', { timeout: 90_000 }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation
  let a: HospitalNode
  let c: HospitalNode
  let config: string
  let keyFile: string
  const chains: string[] = []
  let lfn: string
  let slices: string

  beforeAll(async () => {
    dir = await tempDir()
    fed = await startLocalFederation({ root: join(dir.path, 'fed'), hospitals: 3 })
    ;[a, , c] = fed.nodes as [HospitalNode, HospitalNode, HospitalNode]
    expect(await waitForRoutingTables(fed.nodes)).toBe(true)
    // What `dm2 node` registers on its control socket.
    Object.assign(c.controlHandlers, clientControlHandlers(c))
    config = join(dir.path, 'c.json')
    await writeFile(config, JSON.stringify({ name: c.config.name, dataDir: c.config.dataDir }))

    slices = join(dir.path, 'ct')
    await writeSeries(slices, { modality: 'CT', rows: 64, columns: 64, slices: 5, seed: 41 })
    for (const f of await readdir(slices)) lfn = (await a.dicom.ingestor.importFile(join(slices, f))).lfn
    await a.dicom.registry.register(lfn)
    await waitFor(async () => await c.localization.resolveLfn(lfn, { fresh: true }).then(() => true, () => false), 20_000, 'the LFN to be announced')

    const key = await createKeyFile(join(dir.path, 'keys'), { label: 'doctor' })
    keyFile = key.path
    const s = Math.floor(Date.now() / 1000)
    for (const [i, node] of fed.nodes.entries()) {
      const grant = issueCertificate({ audience: key.signer.publicKey, resource: { selector: {} }, abilities: ['image/read', 'query'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }, node.siteSigner())
      const file = join(dir.path, `chain-${i}.json`)
      await writeFile(file, JSON.stringify({ format: CHAIN_FILE_FORMAT, version: 1, chain: [Buffer.from(grant.bytes).toString('base64')], memberships: [] }))
      chains.push(file)
    }
  }, 120_000)
  afterAll(async () => {
    killAllCli()
    await fed?.stop()
    await dir?.remove()
  })

  const user = (): string[] => ['--config', config, '--key', keyFile, ...chains.flatMap(f => ['--chain', f])]

  it('dm2 query prints the matching series of every site, and --json the merged result', async () => {
    const table = await runCli(['query', 'modality = "CT"', ...user()], { DM2_LOG_LEVEL: 'silent' })
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toContain(lfn)
    const json = await runCli(['query', 'modality = "CT"', ...user(), '--json'], { DM2_LOG_LEVEL: 'silent' })
    expect(JSON.parse(json.stdout)).toMatchObject({ partial: [], results: [{ lfn }] })
    const bad = await runCli(['query', 'modality = ', ...user()], { DM2_LOG_LEVEL: 'silent' })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/position|column|expected/i)
  })

  it('dm2 get writes the volume, and --format dicom a folder of de-identified objects', async () => {
    const out = join(dir.path, 'ct.nii.gz')
    const got = await runCli(['get', lfn, '-o', out, ...user()], { DM2_LOG_LEVEL: 'silent' })
    expect(got.code, got.stderr).toBe(0)
    expect(got.stdout).toContain(`${lfn} v1`)
    const reference = join(dir.path, 'reference.nii')
    await writeVolume(slices, reference, { sidecar: false })
    const volume = readNifti(new Uint8Array(await readFile(out)))
    const want = readNifti(new Uint8Array(await readFile(reference)))
    expect(Buffer.from(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength)
      .equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength))).toBe(true)

    // Again: read from the copy kept at this hospital, the master vouching for it; --no-copy goes to the network.
    await waitFor(() => c.dataPlane.cache.copies.latestVersion(lfn) !== undefined, 10_000, 'the copy at C')
    const again = await runCli(['get', lfn, '-o', out, ...user(), '--json'], { DM2_LOG_LEVEL: 'silent' })
    expect(again.code, again.stderr).toBe(0)
    expect(Object.keys(JSON.parse(again.stdout).sources)).toEqual([c.peerId.toString()])
    const fresh = await runCli(['get', lfn, '-o', out, ...user(), '--json', '--no-copy'], { DM2_LOG_LEVEL: 'silent' })
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(Object.keys(JSON.parse(fresh.stdout).sources)).toEqual([a.peerId.toString()])

    const folder = join(dir.path, 'ct-dicom')
    const dicom = await runCli(['get', lfn, '-o', folder, '--format', 'dicom', ...user()], { DM2_LOG_LEVEL: 'silent' })
    expect(dicom.code, dicom.stderr).toBe(0)
    expect((await readdir(folder)).length).toBe(5)
    const unknown = await runCli(['get', lfn, '-o', folder, '--format', 'png', ...user()], { DM2_LOG_LEVEL: 'silent' })
    expect(unknown.code).not.toBe(0)
    // Over the control channel, a copy choice that is not a boolean is refused before any work.
    const get = c.controlHandlers.get as NonNullable<typeof c.controlHandlers.get>
    await expect(get({ lfn, out: join(dir.path, 'never.nii'), localCopy: 'yes' }, { signal: new AbortController().signal, progress: () => {} }))
      .rejects.toMatchObject({ name: 'ControlParamsError' })
  })

  it('dm2 status shows peers, cache use and the image queue', async () => {
    const status = await runCli(['status', '--config', config, '--json'], { DM2_LOG_LEVEL: 'silent' })
    expect(status.code, status.stderr).toBe(0)
    const parsed = JSON.parse(status.stdout)
    expect(parsed.peers).toHaveLength(2)
    expect(parsed).toMatchObject({ name: c.config.name, queue: { running: 0, queued: 0 }, cache: { images: { maxBytes: expect.any(Number) } } })
  })
})
