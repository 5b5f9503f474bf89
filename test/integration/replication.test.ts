/**
 * Replication between real hospital nodes: the master's prepared image gets
 * two replicas on other sites, a reader fetches from several sources at once
 * with identical bytes, and a replica holder that goes away is replaced.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getImage } from '../../src/api/get-image.js'
import { Wallet } from '../../src/api/wallet.js'
import type { SeriesCatalog, SeriesInfo, SliceProvider } from '../../src/imaging/types.js'
import { waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { contentIdToCid } from '../../src/privacy/payload/index.js'
import { generateSigner, issueCertificate } from '../../src/sac/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('replicas', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation
  let nodes: HospitalNode[]
  const series: SeriesInfo = { lfn: 'lfn-rep-1', version: 1, modality: 'CT', bodyPart: 'HEART', instances: [], meta: { modality: 'CT' } }
  const doctor = generateSigner()

  beforeAll(async () => {
    dir = await tempDir()
    const slices = join(dir.path, 'slices')
    await mkdir(slices)
    // Several 1 MiB chunks, so that sources can share the work.
    await writeSeries(slices, { modality: 'CT', rows: 512, columns: 512, slices: 24, seed: 3 })
    series.instances = (await readdir(slices)).filter(n => n.endsWith('.dcm'))
    const catalog: SeriesCatalog = { describe: async lfn => lfn === series.lfn ? series : undefined }
    const provider: SliceProvider = { ensure: async info => info.instances.map(name => ({ name, path: join(slices, name) })) }
    fed = await startLocalFederation({
      root: join(dir.path, 'fed'),
      hospitals: 6,
      nodeOptions: (i) => ({ replication: { graceMs: 500, reconcileMs: 60_000 }, ...(i === 0 ? { catalog, slices: provider } : {}) })
    })
    nodes = fed.nodes
    expect(await waitForRoutingTables(nodes)).toBe(true)
  })
  afterAll(async () => {
    await fed?.stop()
    await dir?.remove()
  })

  it('places two replicas, and a reader fetches from several sources with identical bytes', async () => {
    const [a, , , , , e] = nodes as [HospitalNode, HospitalNode, HospitalNode, HospitalNode, HospitalNode, HospitalNode]
    const prepared = await a.dataPlane.pipeline.prepare(series.lfn)
    const cid = contentIdToCid(new Uint8Array(Buffer.from(prepared.contentId, 'hex')))
    const [report] = await a.replicas.reconcile()
    expect(report?.placed.length ?? 0).toBeGreaterThanOrEqual(2)
    await waitFor(async () => (await e.localization.findHolders(cid).catch(() => [])).length >= 3, 15_000, 'three holders in the DHT')
    const s = Math.floor(Date.now() / 1000)
    const grant = issueCertificate({ audience: doctor.publicKey, resource: { selector: { modality: ['CT'] } }, abilities: ['image/read'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }, a.siteSigner())
    const out = join(dir.path, 'replicated.nii.gz')
    const holders = report?.placed ?? []
    const reader = nodes.find(n => n !== a && !holders.includes(n.peerId.toString())) as HospitalNode
    const result = await getImage(reader, new Wallet({ signer: doctor, certificates: [grant.bytes] }), series.lfn, { out })
    expect(Object.keys(result.sources).length).toBeGreaterThanOrEqual(2)
    const reference = join(dir.path, 'reference.nii.gz')
    const local = await getImage(a, new Wallet({ signer: doctor, certificates: [grant.bytes] }), series.lfn, { out: reference })
    expect(local.bytes).toBe(result.bytes)
    expect(Buffer.compare(await readFile(out), await readFile(reference))).toBe(0)
  })

  it('replaces a replica holder that went away', async () => {
    const a = nodes[0] as HospitalNode
    const [before] = await a.replicas.reconcile()
    const gone = nodes.find(n => before?.live.includes(n.peerId.toString())) as HospitalNode
    expect(gone).toBeDefined()
    await gone.stop()
    await waitFor(async () => {
      const [r] = await a.replicas.reconcile()
      return r !== undefined && r.live.length >= 2 && !r.live.includes(gone.peerId.toString())
    }, 20_000, 'the replication factor to be restored without the stopped holder')
  })
})
