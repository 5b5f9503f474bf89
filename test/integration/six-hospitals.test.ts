/**
 * Issue 7's end-to-end acceptance on six real TCP nodes, with a real Orthanc
 * as hospital A's PACS (reached through a counting TCP proxy, so the test
 * sees every byte the PACS sends):
 *
 * - a query from any peer returns the union of every site's allowed results;
 * - getImage from a remote hospital returns the volume voxel-identical to
 *   assembling the original slices locally; the second request for the same
 *   LFN is served from cache without the PACS seeing anything;
 * - a PACS that fails mid-series → one typed error and no residue (image
 *   cache, keys, registry, slice store, scratch, journal); a retry succeeds;
 * - 200 concurrent getImage requests from five hospitals → some BUSY, no
 *   other failure, every success correct, memory bounded.
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
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('six hospitals, a real Orthanc behind hospital A', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let orthanc: RunningOrthanc
  let proxy: TcpProxy
  let fed: LocalFederation
  let nodes: HospitalNode[]
  let a: HospitalNode
  let f: HospitalNode
  const doctor = generateSigner()
  /** Reference volumes (.nii assembled locally from the original slices) by LFN. */
  const references = new Map<string, Uint8Array>()

  beforeAll(async () => {
    dir = await tempDir()
    orthanc = await startOrthanc({ dir: join(dir.path, 'orthanc') })
    proxy = await startTcpProxy({ host: '127.0.0.1', port: orthanc.dicomPort })
    fed = await startLocalFederation({
      root: join(dir.path, 'fed'),
      hospitals: 6,
      configOverrides: (i) => i === 0 ? [{ path: ['pacs'], value: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: proxy.port }, source: 'test' }] : []
    })
    nodes = fed.nodes
    a = nodes[0] as HospitalNode
    f = nodes[5] as HospitalNode
    expect(await waitForRoutingTables(nodes)).toBe(true)
  }, 120_000)
  afterAll(async () => {
    await fed?.stop()
    await proxy?.stop()
    await orthanc?.stop()
    await killAll()
    await dir?.remove()
  })

  type Signer = ReturnType<typeof generateSigner>

  /** Every site grants the doctor reading and querying; hospital E only for MR. */
  function certificates (user: Signer): Uint8Array[] {
    const s = Math.floor(Date.now() / 1000)
    return nodes.map((n, i) => issueCertificate({
      audience: user.publicKey,
      resource: { selector: i === 4 ? { modality: ['MR'] } : {} },
      abilities: ['image/read', 'query'],
      notBefore: s - 60,
      expiry: s + 3600,
      purpose: 'TREAT'
    }, n.siteSigner()).bytes)
  }

  function wallet (user: Signer = doctor): Wallet {
    return new Wallet({ signer: user, certificates: certificates(user) })
  }

  async function reference (lfn: string, slicesDir: string): Promise<void> {
    const out = join(dir.path, `reference-${references.size}.nii`)
    await writeVolume(slicesDir, out, { sidecar: false })
    references.set(lfn, new Uint8Array(await readFile(out)))
  }

  function expectSameVolume (fetched: Uint8Array, lfn: string): void {
    const want = references.get(lfn)
    expect(want).toBeDefined()
    const got = readNifti(fetched)
    const ref = readNifti(want as Uint8Array)
    expect(got.dims).toEqual(ref.dims)
    expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength)
      .equals(Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength))).toBe(true)
  }

  /** A series pushed with DCMTK's storescu into a node's SCP and registered there. */
  async function stored (node: HospitalNode, name: string, options: Parameters<typeof writeSeries>[1]): Promise<string> {
    const slices = join(dir.path, name)
    const series = await writeSeries(slices, options)
    const files = (await readdir(slices)).map(x => join(slices, x))
    const res = await runTool('storescu', ['-aet', 'MODALITY', '-aec', node.config.dicom.aeTitle, '127.0.0.1', String(node.dicom.scp?.port), ...files])
    expect(res.code).toBe(0)
    const lfn = await node.dicom.registry.lfnForSeriesUid(series.meta.seriesInstanceUID)
    expect(lfn).toBeDefined()
    await node.dicom.registry.register(lfn as string)
    await reference(lfn as string, slices)
    return lfn as string
  }

  /** A series uploaded to Orthanc only, registered virtually at A from its C-FIND. */
  async function inPacs (name: string, options: Parameters<typeof writeSeries>[1]): Promise<string> {
    const slices = join(dir.path, name)
    const series = await writeSeries(slices, options)
    for (const x of await readdir(slices)) await orthanc.upload(join(slices, x))
    const pool = a.dicom.pool
    if (pool === undefined) throw new Error('hospital A has no PACS pool')
    const record = await registerVirtualSeries({ pool, registry: a.dicom.registry }, series.meta.studyInstanceUID, series.meta.seriesInstanceUID)
    await reference(record.lfn, slices)
    return record.lfn
  }

  async function announced (lfn: string): Promise<void> {
    await waitFor(async () => await f.localization.resolveLfn(lfn, { fresh: true }).then(() => true, () => false), 20_000, `${lfn} to be announced`)
  }

  async function fetchAt (node: HospitalNode, lfn: string, name: string, user?: Signer): Promise<Uint8Array> {
    const out = join(dir.path, `${name}.nii`)
    await getImage(node, wallet(user), lfn, { out })
    return new Uint8Array(await readFile(out))
  }

  const lfns: Record<string, string> = {}

  it('a query from any peer returns the union of every site\'s allowed results', async () => {
    lfns.pacsCt = await inPacs('pacs-ct', { modality: 'CT', rows: 64, columns: 64, slices: 6, seed: 21 })
    lfns.bMr = await stored(nodes[1] as HospitalNode, 'b-mr', { modality: 'MR', rows: 48, columns: 48, slices: 5, seed: 22, orientation: 'sagittal' })
    lfns.dCt = await stored(nodes[3] as HospitalNode, 'd-ct', { modality: 'CT', rows: 48, columns: 48, slices: 4, seed: 23 })
    lfns.eCt = await stored(nodes[4] as HospitalNode, 'e-ct', { modality: 'CT', rows: 48, columns: 48, slices: 4, seed: 24 })
    lfns.eMr = await stored(nodes[4] as HospitalNode, 'e-mr', { modality: 'MR', rows: 48, columns: 48, slices: 4, seed: 25 })
    const allowed = [lfns.pacsCt, lfns.bMr, lfns.dCt, lfns.eMr].sort()
    for (const from of [f, nodes[1] as HospitalNode, a]) {
      // The same doctor, at another hospital's desk.
      const client = new Dm2Client(from, { signer: doctor, certificates: certificates(doctor) })
      const result = await client.query('slices > 0')
      expect(result.partial).toEqual([])
      // Hospital E's CT is outside the doctor's certificate from E: absent, not an error.
      expect(result.results.map(r => r.lfn).sort()).toEqual(allowed)
    }
  })

  it('getImage from a remote hospital is voxel-identical; the second request touches no PACS', async () => {
    await announced(lfns.pacsCt as string)
    proxy.reset()
    expectSameVolume(await fetchAt(f, lfns.pacsCt as string, 'first'), lfns.pacsCt as string)
    expect(proxy.received).toBeGreaterThan(6 * 64 * 64 * 2) // the six slices came through the PACS link
    proxy.reset()
    expectSameVolume(await fetchAt(f, lfns.pacsCt as string, 'second'), lfns.pacsCt as string)
    expectSameVolume(await fetchAt(nodes[2] as HospitalNode, lfns.pacsCt as string, 'third'), lfns.pacsCt as string)
    expect({ sent: proxy.sent, received: proxy.received, connections: proxy.connections }).toEqual({ sent: 0, received: 0, connections: 0 })
    // A series held at B and one at D, fetched by F too.
    expectSameVolume(await fetchAt(f, lfns.bMr as string, 'b-mr'), lfns.bMr as string)
    expectSameVolume(await fetchAt(f, lfns.dCt as string, 'd-ct'), lfns.dCt as string)
  })

  it('a PACS failing mid-series gives one typed error and leaves no residue; a retry succeeds', async () => {
    const lfn = await inPacs('pacs-big', { modality: 'CT', rows: 128, columns: 128, slices: 20, seed: 26 })
    await announced(lfn)
    const scratch = join(a.config.dataDir, 'scratch')
    const before = { registry: await a.dicom.registry.get(lfn), temps: await a.dicom.store.temps() }
    expect(before.registry).toMatchObject({ present: 0, instances: 20 })
    proxy.reset()
    proxy.failAfter(150_000) // about a quarter of the series
    const err = await getImage(f, wallet(), lfn, { out: join(dir.path, 'failed.nii') }).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'GetImageError', step: 'prepare' })
    expect(proxy.received).toBeGreaterThanOrEqual(150_000)
    // Nothing of it remains at A: no image, no key, no slice, no work folder, no open transaction.
    await waitFor(async () => (await a.dicom.registry.get(lfn))?.present === 0, 10_000, 'fetched slices to be evicted')
    expect(await a.dataPlane.cache.images.get(lfn, 1)).toBeUndefined()
    expect(await a.dataPlane.keys.get(lfn, 1)).toBeUndefined()
    expect(await a.dicom.registry.get(lfn)).toMatchObject({ present: 0, instances: 20, version: before.registry?.version })
    expect((await a.dicom.registry.instances(lfn)).filter(i => i.file !== undefined)).toEqual([])
    expect(await readdir(join(a.dicom.store.slicesDir, lfn)).catch(() => [])).toEqual([])
    expect(await a.dicom.store.temps()).toEqual(before.temps)
    expect(await readdir(scratch).catch(() => [])).toEqual([])
    const journal: string[] = []
    for await (const key of a.db.sublevel<string, string>('tx', { valueEncoding: 'utf8' }).keys()) journal.push(key)
    expect(journal).toEqual([])
    // The PACS is back: the same request succeeds.
    proxy.failAfter(undefined)
    expectSameVolume(await fetchAt(f, lfn, 'retried'), lfn)
    expect(await a.dicom.registry.get(lfn)).toMatchObject({ present: 20 })
  })

  it('200 concurrent getImage from five hospitals: some BUSY, nothing else fails, every success is correct, memory bounded', async () => {
    const many: string[] = []
    for (let i = 0; i < 10; i++) many.push(await inPacs(`burst-${i}`, { modality: 'CT', rows: 32, columns: 32, slices: 3, seed: 100 + i }))
    await Promise.all(many.map(announced))
    // A slow PACS keeps the first preparations running while the burst arrives.
    proxy.delay(40)
    const requesters = nodes.slice(1)
    const wallets = requesters.map(() => wallet())
    const baseline = process.memoryUsage().rss
    let peak = baseline
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 25)
    let results: Array<PromiseSettledResult<{ lfn: string, bytes: Uint8Array }>>
    try {
      results = await Promise.allSettled(Array.from({ length: 200 }, async (_, i) => {
        const node = requesters[i % requesters.length] as HospitalNode
        const lfn = many[i % many.length] as string
        const out = join(dir.path, `burst-out-${i}.nii`)
        await getImage(node, wallets[i % requesters.length] as Wallet, lfn, { out })
        return { lfn, bytes: new Uint8Array(await readFile(out)) }
      }))
    } finally {
      clearInterval(sampler)
      proxy.delay(0)
    }
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map(r => r.reason as Error & { cause?: Error })
    const causes = failures.map(e => `${e.name}/${e.cause?.name ?? ''}`)
    // Anything but BUSY is shown whole (step, cause and message), so that a failure says what broke.
    const other = failures.filter(e => e.cause?.name !== 'BusyError').map(e => `${e.name} [${(e as { step?: string }).step ?? ''}]: ${e.message} / ${e.cause?.name ?? ''}: ${e.cause?.message ?? ''}`)
    expect(other).toEqual([])
    expect(new Set(causes)).toEqual(new Set(['GetImageError/BusyError']))
    const successes = results.filter((r): r is PromiseFulfilledResult<{ lfn: string, bytes: Uint8Array }> => r.status === 'fulfilled')
    expect(successes.length).toBeGreaterThan(0)
    for (const s of successes) expectSameVolume(s.value.bytes, s.value.lfn)
    expect(peak - baseline).toBeLessThan(512 * 1024 * 1024)
    // Every node still serves: a BUSY answer is not a crash.
    for (const node of nodes) expect(node.status).toBe('started')
    expectSameVolume(await fetchAt(f, many[0] as string, 'after-burst'), many[0] as string)
  }, 180_000)
})
