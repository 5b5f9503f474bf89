/**
 * Real DICOM in, volume out at another hospital: a series pushed by DCMTK's
 * storescu into hospital A's SCP, and one that only lives in A's PACS (a real
 * Orthanc, registered virtually from its C-FIND), are each fetched by
 * hospital C as volumes voxel-identical to assembling the original slices.
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dm2Client } from '../../src/api/index.js'
import { getImage } from '../../src/api/get-image.js'
import { Wallet } from '../../src/api/wallet.js'
import { readNifti, writeVolume } from '../../src/assembly/index.js'
import { registerVirtualSeries } from '../../src/dicom/retrieve.js'
import { waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { generateSigner, issueCertificate } from '../../src/sac/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { startOrthanc, type RunningOrthanc } from '../dicom/helpers/orthanc.js'
import { killAll, runTool } from '../dicom/helpers/tools.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('DICOM in at hospital A, volume out at hospital C', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let orthanc: RunningOrthanc
  let fed: LocalFederation
  let a: HospitalNode
  let c: HospitalNode
  const doctor = generateSigner()

  beforeAll(async () => {
    dir = await tempDir()
    orthanc = await startOrthanc({ dir: join(dir.path, 'orthanc') })
    fed = await startLocalFederation({
      root: join(dir.path, 'fed'),
      hospitals: 3,
      configOverrides: (i) => i === 0
        ? [
            { path: ['pacs'], value: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }, source: 'test' },
            // Room for the slices of one small series fetched from the PACS, not two.
            { path: ['cache', 'slices'], value: '100 KiB', source: 'test' }
          ]
        : []
    })
    ;[a, , c] = fed.nodes as [HospitalNode, HospitalNode, HospitalNode]
    expect(await waitForRoutingTables(fed.nodes)).toBe(true)
  })
  afterAll(async () => {
    await fed?.stop()
    await orthanc?.stop()
    await killAll()
    await dir?.remove()
  })

  function wallet (): Wallet {
    const s = Math.floor(Date.now() / 1000)
    const grant = issueCertificate({ audience: doctor.publicKey, resource: { selector: {} }, abilities: ['image/read'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }, a.siteSigner())
    return new Wallet({ signer: doctor, certificates: [grant.bytes] })
  }

  async function expectSameVolume (fetched: string, slicesDir: string): Promise<void> {
    const reference = join(dir.path, `reference-${Date.now()}.nii.gz`)
    await writeVolume(slicesDir, reference, { sidecar: false })
    const got = readNifti(new Uint8Array(await readFile(fetched)))
    const want = readNifti(new Uint8Array(await readFile(reference)))
    expect(got.dims).toEqual(want.dims)
    expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength))).toBe(true)
  }

  it('storescu → A, registered, then fetched by C', async () => {
    const slices = join(dir.path, 'stored')
    const series = await writeSeries(slices, { modality: 'MR', rows: 96, columns: 96, slices: 8, seed: 11, orientation: 'sagittal' })
    const files = (await readdir(slices)).map(f => join(slices, f))
    const store = await runTool('storescu', ['-aet', 'MODALITY', '-aec', a.config.dicom.aeTitle, '127.0.0.1', String(a.dicom.scp?.port), ...files])
    expect(store.code).toBe(0)
    const lfn = await a.dicom.registry.lfnForSeriesUid(series.meta.seriesInstanceUID)
    expect(lfn).toBeDefined()
    await a.dicom.registry.register(lfn as string)
    // Registration announces the LFN in the DHT.
    await waitFor(async () => await c.localization.resolveLfn(lfn as string, { fresh: true }).then(() => true, () => false), 10_000, 'the LFN to be announced')
    const out = join(dir.path, 'stored.nii.gz')
    const result = await getImage(c, wallet(), lfn as string, { out })
    expect(result.master).toBe(a.peerId.toString())
    await expectSameVolume(out, slices)
  })

  it('a series only in A\'s PACS is registered virtually, fetched by C-GET on demand, and served', async () => {
    const slices = join(dir.path, 'pacs')
    const series = await writeSeries(slices, { modality: 'CT', rows: 64, columns: 64, slices: 6, seed: 12 })
    for (const f of await readdir(slices)) await orthanc.upload(join(slices, f))
    const pool = a.dicom.pool
    expect(pool).toBeDefined()
    if (pool === undefined) return
    const record = await registerVirtualSeries({ pool, registry: a.dicom.registry }, series.meta.studyInstanceUID, series.meta.seriesInstanceUID)
    expect(record).toMatchObject({ origin: 'pacs', present: 0, instances: 6 })
    const out = join(dir.path, 'virtual.nii.gz')
    await waitFor(async () => await c.localization.resolveLfn(record.lfn, { fresh: true }).then(() => true, () => false), 10_000, 'the LFN to be announced')
    await getImage(c, wallet(), record.lfn, { out })
    await expectSameVolume(out, slices)
    expect((await a.dicom.registry.get(record.lfn))?.present).toBe(6)
  })

  it('the application API: query across sites, parameters, comparable series', async () => {
    const s = Math.floor(Date.now() / 1000)
    const certificates = fed.nodes.map(n => issueCertificate({
      audience: doctor.publicKey, resource: { selector: {} }, abilities: ['image/read', 'query'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT'
    }, n.siteSigner()).bytes)
    const client = new Dm2Client(c, { signer: doctor, certificates })
    const all = await client.query('modality IN ("CT", "MR")')
    expect(all.partial).toEqual([])
    expect(all.results.map(r => r.fields.modality).sort()).toEqual(['CT', 'MR'])
    expect(all.results.every(r => r.sites.includes(a.peerId.toString()))).toBe(true)
    const ct = all.results.find(r => r.fields.modality === 'CT')
    expect(ct).toBeDefined()
    const params = await client.parameters(ct?.lfn as string)
    expect(params).toMatchObject({ master: a.peerId.toString(), meta: { modality: 'CT' } })
    expect((await client.comparable(ct?.lfn as string)).results).toEqual([])
    // Identifying fields are refused without the right.
    await expect(client.query('patientID = "X"')).rejects.toMatchObject({ name: 'IdentifyingFieldError' })
  })

  it('slices fetched from the PACS stay within their byte budget: the least recently used series goes back to virtual, and is fetched again on demand', async () => {
    const pool = a.dicom.pool
    if (pool === undefined) throw new Error('no PACS pool')
    const register = async (seed: number): Promise<{ lfn: string, dir: string }> => {
      const d = join(dir.path, `budget-${seed}`)
      const series = await writeSeries(d, { modality: 'CT', rows: 64, columns: 64, slices: 6, seed })
      for (const f of await readdir(d)) await orthanc.upload(join(d, f))
      const record = await registerVirtualSeries({ pool, registry: a.dicom.registry }, series.meta.studyInstanceUID, series.meta.seriesInstanceUID)
      await waitFor(async () => await c.localization.resolveLfn(record.lfn, { fresh: true }).then(() => true, () => false), 10_000, 'the LFN to be announced')
      return { lfn: record.lfn, dir: d }
    }
    const first = await register(21)
    await getImage(c, wallet(), first.lfn, { out: join(dir.path, 'budget-1.nii.gz'), localCopy: false })
    const one = (await a.dicom.registry.get(first.lfn))?.bytes ?? 0
    expect(one).toBeGreaterThan(100 * 1024 / 2)
    expect(one).toBeLessThan(100 * 1024)
    const second = await register(22)
    await getImage(c, wallet(), second.lfn, { out: join(dir.path, 'budget-2.nii.gz'), localCopy: false })
    // Once A is done with the second series (its features indexed too), the first one's slices are gone.
    await a.similarity.indexer.idle()
    await waitFor(async () => (await a.dicom.registry.get(first.lfn))?.present === 0, 10_000, 'the first series evicted')
    expect((await a.dicom.registry.get(second.lfn))?.present).toBe(6)
    const status = a.statusReport() as { cache: { pacsSlices: { bytes: number, maxBytes: number, evicted: number } } }
    expect(status.cache.pacsSlices.bytes).toBeLessThanOrEqual(100 * 1024)
    expect(status.cache.pacsSlices).toMatchObject({ maxBytes: 100 * 1024 })
    expect(status.cache.pacsSlices.evicted).toBeGreaterThanOrEqual(1)
    // Asked for again (A's image dropped, so that it prepares from slices): fetched from the PACS again, the same volume.
    await a.dataPlane.cache.images.invalidate(first.lfn)
    const again = join(dir.path, 'budget-1-again.nii.gz')
    await getImage(c, wallet(), first.lfn, { out: again, localCopy: false })
    await expectSameVolume(again, first.dir)
    expect((await a.dicom.registry.get(first.lfn))?.present).toBe(6)
  })
})
