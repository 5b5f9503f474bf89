/**
 * Content-based similarity across real hospital nodes (TCP + noise + yamux):
 * three hospitals ingest synthetic CT series (DICOM files → registry →
 * features at registration), built as known transformations (noise,
 * intensity scaling, a small shift) of three base volumes and spread so
 * every family spans the sites. A cardiologist at hospital C ranks them
 * through Dm2Client, the control channel and the `dm2` CLI; a series the
 * chain does not cover is never read nor returned; a chain that covers
 * nothing is denied and audited; diagnoses show only with meta/read; a site
 * that is down leaves a partial, flagged answer.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { clientControlHandlers, Dm2Client } from '../../src/api/index.js'
import { assembleVolume, sourcesFromBuffers } from '../../src/assembly/index.js'
import { registerSimilarity } from '../../src/cli/similarity.js'
import { CHAIN_FILE_FORMAT } from '../../src/cli/sac.js'
import { CONTROL_SOCKET_NAME } from '../../src/config/defaults.js'
import { ControlClient } from '../../src/control/index.js'
import { waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import type { SimilarityServed } from '../../src/protocols/similarity/index.js'
import { createKeyFile, generateSigner, issueCertificate, type Ability, type Selector, type SeededSigner } from '../../src/sac/index.js'
import type { MeasureName, VolumeInput } from '../../src/similarity/index.js'
import { generateFamily, uid, writeSeries, type GeneratedSeries, type SeriesOptions, type Transform } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'

const MEASURES: MeasureName[] = ['ncc', 'nmi', 'cr']
const DATE = { studyDate: '20230115' }
const BASES: SeriesOptions[] = [
  { seed: 'fam-0', slices: 20, rows: 40, columns: 40, identity: DATE },
  { seed: 'fam-1', slices: 24, rows: 44, columns: 40, shift: [12, -8, 6], pixelSpacing: [0.9, 0.9], identity: DATE },
  { seed: 'fam-2', slices: 22, rows: 40, columns: 44, shift: [-10, 9, -5], pixelSpacing: [0.8, 0.8], identity: DATE }
]
const TRANSFORMS: Transform[] = [
  { name: 'noisier', noiseSigma: 25, noiseSeed: 'other' },
  { name: 'brighter', intensityScale: 1.15 },
  { name: 'shifted', shift: [1.5, -1.5, 0] }
]
/** The query image of each family: not registered anywhere. */
const QUERY: Transform = { name: 'query', noiseSigma: 15, noiseSeed: 'query', intensityScale: 0.95 }

describe('similarity search over a federation of hospital nodes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation | undefined
  let nodes: HospitalNode[]
  const served: SimilarityServed[][] = [[], [], []]
  const reads: string[][] = [[], [], []]
  /** LFN → family index (-1: the uncovered near-copy at B). */
  const family = new Map<string, number>()
  /** LFN → hospital index. */
  const siteOf = new Map<string, number>()
  const queries: VolumeInput[] = []
  let secret = ''
  const doctor = generateSigner()
  const colleague = generateSigner()
  const resident = generateSigner()
  const S = Math.floor(Date.now() / 1000)

  function grant (user: SeededSigner, site: number, abilities: Ability[], selector: Selector = { modality: ['CT'] }): Uint8Array {
    return issueCertificate({ audience: user.publicKey, resource: { selector }, abilities, notBefore: S - 60, expiry: S + 3600, purpose: 'TREAT' }, (nodes[site] as HospitalNode).siteSigner()).bytes
  }

  async function ingest (node: number, series: GeneratedSeries, name: string): Promise<string> {
    const n = nodes[node] as HospitalNode
    const folder = join(dir.path, 'series', name)
    await writeSeries(folder, series)
    for (const f of series.files) await n.dicom.ingestor.importFile(join(folder, f.name))
    const lfn = await n.dicom.registry.lfnForSeriesUid(series.meta.seriesInstanceUID) as string
    await n.dicom.registry.register(lfn)
    siteOf.set(lfn, node)
    return lfn
  }

  async function volumeOf (series: GeneratedSeries): Promise<VolumeInput> {
    const { data, plan } = await assembleVolume(sourcesFromBuffers(series.files))
    return { data, dims: plan.dims, affine: plan.geometry.affineLps, space: 'LPS', rescale: { slope: plan.scaling.sclSlope, intercept: plan.scaling.sclInter }, modality: 'CT', bodyPart: 'CHEST' }
  }

  function doctorClient (): Dm2Client {
    return new Dm2Client(nodes[2] as HospitalNode, {
      signer: doctor,
      certificates: [
        grant(doctor, 0, ['similarity', 'meta/read', 'annotate', 'image/read', 'query']),
        // At B only studies from 2020 on: B's 2019 near-copy of family 0 is not covered.
        grant(doctor, 1, ['similarity', 'meta/read', 'query'], { modality: ['CT'], date: { from: '20200101' } }),
        grant(doctor, 2, ['similarity', 'meta/read', 'annotate', 'query'])
      ]
    })
  }

  beforeAll(async () => {
    dir = await tempDir()
    fed = await startLocalFederation({
      root: join(dir.path, 'fed'),
      hospitals: 3,
      nodeOptions: (i) => ({ similarity: { onServed: s => { served[i]?.push(s) }, onFeaturesRead: lfn => { reads[i]?.push(lfn) } } })
    })
    nodes = fed.nodes
    for (const [f, base] of BASES.entries()) {
      const members = generateFamily(base, [...TRANSFORMS, QUERY])
      queries.push(await volumeOf(members.pop() as GeneratedSeries))
      for (const [m, series] of members.entries()) family.set(await ingest((f + m) % 3, series, `f${f}-m${m}`), f)
    }
    // Family 0's base again, filed under a 2019 study at B: it would rank first, but the doctor's chain at B does not cover it.
    const [copy] = generateFamily({ ...BASES[0], identity: { studyDate: '20190310' }, studyInstanceUID: uid('secret', 'study'), seriesInstanceUID: uid('secret', 'series') }, [])
    secret = await ingest(1, copy as GeneratedSeries, 'secret')
    family.set(secret, -1)
    await Promise.all(nodes.map(async n => { await n.similarity.indexer.idle() }))
    expect(nodes.map(n => n.similarity.index.size)).toEqual([4, 5, 4])
    expect(await waitForRoutingTables(nodes, { timeoutMs: 20_000 })).toBe(true)
  }, 60_000)

  afterAll(async () => {
    await fed?.stop()
    await dir?.remove()
  })

  it('ranks each query image\'s own family first, at every site, for each measure', async () => {
    const client = doctorClient()
    for (const [f, query] of queries.entries()) {
      for (const measure of MEASURES) {
        const r = await client.similar(query, { measure, topK: 4 })
        expect(r.partial).toEqual([])
        expect([measure, f, r.results.map(h => family.get(h.lfn))]).toEqual([measure, f, [f, f, f, f]])
        expect(new Set(r.results.map(h => h.site)).size).toBe(3)
        for (const h of r.results) expect(h.site).toBe((nodes[siteOf.get(h.lfn) as number] as HospitalNode).peerId.toString())
        expect(r.results.map(h => h.score)).toEqual([...r.results.map(h => h.score)].sort((a, b) => b - a))
        expect(r.query).toEqual({ modality: 'CT', bodyPart: 'CHEST' })
      }
    }
  })

  it('never reads nor returns a series the chain does not cover; the site counts it', async () => {
    const r = await doctorClient().similar(queries[0] as VolumeInput, { measure: 'ncc', topK: 20 })
    expect(r.results.map(h => h.lfn)).not.toContain(secret)
    expect(r.results).toHaveLength(12)
    const atB = served[1]?.at(-1)
    expect(atB).toMatchObject({ allow: true, candidates: 5, uncovered: 1, ranked: 4, returned: 4, remotePeer: (nodes[2] as HospitalNode).peerId.toString() })
    for (const list of reads) expect(list).not.toContain(secret)
    expect(reads[1]?.length).toBeGreaterThan(0)
    expect(nodes[1]?.similarity.stats().served.uncovered).toBeGreaterThan(0)
  })

  it('narrows the ranking with a metadata query (`where`)', async () => {
    const a = (nodes[0] as HospitalNode).peerId.toString()
    const r = await doctorClient().similar(queries[0] as VolumeInput, { measure: 'ncc', topK: 3, where: 'site = "hospital-a"' })
    expect(r.where).toEqual({ matched: 4, truncated: false, partial: [] })
    expect(r.results.map(h => h.site)).toEqual([a, a, a])
    // A holds two of family 0; they come first.
    expect(r.results.map(h => family.get(h.lfn)).slice(0, 2)).toEqual([0, 0])
    expect(r.results[2]?.lfn).not.toBe(secret)
  })

  it('ranks by a series: its own features at this site (audited), or fetched from its master; the query is left out', async () => {
    const client = doctorClient()
    const local = [...siteOf].find(([lfn, s]) => s === 2 && family.get(lfn) === 1)?.[0] as string
    const r = await client.similar(local, { measure: 'cr', topK: 3 })
    expect(r.query).toEqual({ lfn: local, modality: 'CT', bodyPart: 'CHEST' })
    expect(r.results.map(h => family.get(h.lfn))).toEqual([1, 1, 1])
    expect(r.results.map(h => h.lfn)).not.toContain(local)
    const entries = []
    for await (const e of (nodes[2] as HospitalNode).dataPlane.audit.entries()) entries.push(e.entry)
    expect(entries.find(e => e.command === 'similarity/query-features')).toMatchObject({ decision: 'allow', resource: local })

    const remote = [...siteOf].find(([lfn, s]) => s === 0 && family.get(lfn) === 2)?.[0] as string
    const r2 = await client.similar(remote, { measure: 'ncc', topK: 3 })
    expect(r2.results.map(h => family.get(h.lfn))).toEqual([2, 2, 2])
    expect(r2.results.map(h => h.lfn)).not.toContain(remote)
    // A prepared the image for it: its index now names the content id, as file-bound certificates do.
    const c = []
    for await (const x of (nodes[0] as HospitalNode).similarity.index.candidates()) if (x.lfn === remote) c.push(x)
    expect(c[0]?.resource.contentId).toMatch(/^[0-9a-f]{64}$/)
  })

  it('a chain that covers nothing at a site is denied there and audited; sites without a chain are partial', async () => {
    const client = new Dm2Client(nodes[2] as HospitalNode, { signer: resident, certificates: [grant(resident, 0, ['similarity'], { modality: ['MR'] })] })
    const r = await client.similar(queries[1] as VolumeInput, { measure: 'ncc', topK: 5 })
    expect(r.results).toEqual([])
    const [a, b, c] = nodes.map(n => n.peerId.toString()) as [string, string, string]
    expect([...r.partial].sort((x, y) => x.site < y.site ? -1 : 1)).toEqual([
      { site: a, reason: 'DENIED', remoteReason: 'RESOURCE_MISMATCH' }, { site: b, reason: 'AUTH' }, { site: c, reason: 'AUTH' }
    ].sort((x, y) => x.site < y.site ? -1 : 1))
    const entries = []
    for await (const e of (nodes[0] as HospitalNode).dataPlane.audit.entries()) entries.push(e.entry)
    expect(entries.at(-1)).toMatchObject({ decision: 'deny', reason: 'RESOURCE_MISMATCH', command: 'similarity', remotePeer: c })
    expect(served[0]?.at(-1)).toMatchObject({ allow: false, candidates: 0, ranked: 0 })
  })

  it('annotate, then similar: the diagnosis shows only with meta/read', async () => {
    const client = doctorClient()
    const atA = [...siteOf].find(([lfn, s]) => s === 0 && family.get(lfn) === 1)?.[0] as string
    const atC = [...siteOf].find(([lfn, s]) => s === 2 && family.get(lfn) === 0)?.[0] as string
    expect(await client.annotate(atA, 'dilated cardiomyopathy')).toMatchObject({ lfn: atA, master: (nodes[0] as HospitalNode).peerId.toString() })
    expect(await client.annotate(atC, 'normal')).toMatchObject({ lfn: atC, master: (nodes[2] as HospitalNode).peerId.toString() })

    const seen = await client.similar(queries[1] as VolumeInput, { measure: 'cr', topK: 4 })
    expect(seen.results.find(h => h.lfn === atA)?.diagnosis).toBe('dilated cardiomyopathy')
    expect(seen.results.filter(h => h.diagnosis !== undefined)).toHaveLength(1)
    const only = await client.similar(queries[1] as VolumeInput, { measure: 'cr', topK: 4, requireDiagnosis: true })
    expect(only.results.map(h => h.lfn)).toEqual([atA, atC])
    // The metadata query knows it too: comparable series with a diagnosis (the paper's Comparablerequest).
    const diagnosed = await client.query('diagnosisKnown')
    expect(diagnosed.results.map(r => r.lfn).sort()).toEqual([atA, atC].sort())

    const colleagueClient = new Dm2Client(nodes[2] as HospitalNode, { signer: colleague, certificates: nodes.map((_, i) => grant(colleague, i, ['similarity'])) })
    const hidden = await colleagueClient.similar(queries[1] as VolumeInput, { measure: 'cr', topK: 4 })
    expect(hidden.results.map(h => h.lfn)).toContain(atA)
    expect(hidden.results.every(h => h.diagnosis === undefined)).toBe(true)
    // Annotating needs the right, checked (and audited) at the master.
    const wrong = new Dm2Client(nodes[2] as HospitalNode, { signer: colleague, certificates: [grant(colleague, 0, ['annotate'], { modality: ['MR'] })] })
    await expect(wrong.annotate(atA, 'x')).rejects.toMatchObject({ name: 'DeniedError', reason: 'RESOURCE_MISMATCH' })
    await expect(colleagueClient.annotate(atA, 'x')).rejects.toMatchObject({ name: 'NoChainError' })
  })

  it('the control channel and `dm2 similar` / `dm2 features status` reach the running node', async () => {
    const c = nodes[2] as HospitalNode
    Object.assign(c.controlHandlers, clientControlHandlers(c))
    const key = await createKeyFile(join(dir.path, 'keys'), { signer: doctor, label: 'doctor' })
    const chains = doctorClient().wallet
    const certificates = [0, 1, 2].map(i => chains.chainFor((nodes[i] as HospitalNode).siteSigner().publicKey, 'similarity')?.[0]?.bytes as Uint8Array)
    const chainFiles = await Promise.all(certificates.map(async (cert, i) => {
      const path = join(dir.path, `chain-${i}.json`)
      await writeFile(path, JSON.stringify({ format: CHAIN_FILE_FORMAT, version: 1, chain: [Buffer.from(cert).toString('base64')], memberships: [] }))
      return path
    }))
    const config = join(dir.path, 'hospital-c.json')
    await writeFile(config, JSON.stringify({ name: 'hospital-c', dataDir: c.config.dataDir }))

    const control = await ControlClient.connect(join(c.config.dataDir, CONTROL_SOCKET_NAME))
    try {
      const user = { seed: Buffer.from(doctor.seed).toString('base64'), certificates: certificates.map(b => Buffer.from(b).toString('base64')) }
      const local = [...siteOf].find(([lfn, s]) => s === 2 && family.get(lfn) === 0)?.[0] as string
      const r = await control.call<{ results: Array<{ lfn: string }>, partial: unknown[] }>('similar', { ...user, lfn: local, measure: 'ncc', topK: 3 })
      expect(r.partial).toEqual([])
      expect(r.results.map(h => family.get(h.lfn))).toEqual([0, 0, 0])
      await expect(control.call('similar', { ...user, lfn: local, measure: 'ssd' })).rejects.toThrow(/measure/)
    } finally {
      control.close()
    }

    const logs: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { logs.push(args.join(' ')) })
    try {
      const program = new Command().exitOverride()
      registerSimilarity(program)
      const query = [...siteOf].find(([lfn, s]) => s === 2 && family.get(lfn) === 2)?.[0] as string
      await program.parseAsync(['similar', query, '--config', config, '--key', key.path, ...chainFiles.flatMap(f => ['--chain', f]), '--measure', 'nmi', '--top', '3', '--json'], { from: 'user' })
      const out = JSON.parse(logs.join('\n')) as { results: Array<{ lfn: string, score: number }>, partial: unknown[] }
      expect(out.partial).toEqual([])
      expect(out.results.map(h => family.get(h.lfn))).toEqual([2, 2, 2])
      logs.length = 0
      await program.parseAsync(['features', 'status', '--config', config, '--json'], { from: 'user' })
      expect(JSON.parse(logs.join('\n'))).toMatchObject({ series: 4, diagnosed: 1, served: { queries: expect.any(Number) } })
    } finally {
      spy.mockRestore()
    }
  })

  it('a site that is down yields partial results, flagged', async () => {
    const b = nodes[1] as HospitalNode
    const bId = b.peerId.toString()
    await b.stop()
    const r = await doctorClient().similar(queries[2] as VolumeInput, { measure: 'ncc', topK: 4, timeoutMs: 3000 })
    expect(r.partial).toHaveLength(1)
    expect(r.partial[0]).toMatchObject({ site: bId })
    expect(['UNREACHABLE', 'TIMEOUT']).toContain(r.partial[0]?.reason)
    // Family 2 has three members at A and C; the fourth result is another family's.
    expect(r.results.slice(0, 3).map(h => family.get(h.lfn))).toEqual([2, 2, 2])
    expect(r.results.every(h => siteOf.get(h.lfn) !== 1)).toBe(true)
  })
})
