/**
 * `/dm2/similarity/1.0.0` and `/dm2/annotate/1.0.0` over real TCP libp2p
 * nodes, with real certificates and access control: a synthetic federation
 * of three hospitals whose CT series are known transformations (noise,
 * intensity scaling, small shifts) of three base volumes, spread so every
 * family spans all sites. Each site also holds series the doctor's chain
 * does not cover (a patient-governed near-copy of each query) and series of
 * another body region; neither may ever be read or returned.
 */
import { noise } from '@chainsafe/libp2p-noise'
import type { PeerId } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { Level } from 'level'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamMuxer } from '../../src/node/libp2p.js'
import {
  annotateArguments, diagnosisAnnotation, mergeHits, parseHits, encodeScore, similarityRanking,
  type Annotation, type Candidate, type FederationQuery, type SimilarityRanking, type SimilarityServed
} from '../../src/protocols/similarity/index.js'
import {
  createInvocation, encodeAuthorization, generateSigner, issueCertificate,
  type Ability, type Certificate, type Decision, type ResourceDescriptor, type Selector, type SeededSigner
} from '../../src/sac/index.js'
import { lateAccess } from './late-access.js'
import { createDiagnosis, DiagnosisStore, encodeFeatures, extractFeatures, type MeasureName } from '../../src/similarity/index.js'
import { tempDir } from '../helpers/tmp.js'
import { BASE_SHAPES, FAMILY_VARIANTS, axial, ctVolume, randomPhantom } from '../similarity/phantom.js'

type Site = Libp2p<{ similarity: SimilarityRanking, annotate: Annotation }>
interface Series { lfn: string, features: Uint8Array, modality: string, bodyPart: string, resource: ResourceDescriptor }

const FAMILIES = 3
const STORED = 6
const acquisition = axial([40, 40, 32], [2.5, 2.5, 3])
const doctor = generateSigner()
const colleague = generateSigner()
const patient = generateSigner()

/** Features read (loaded) per LFN, over the whole run. */
const reads = new Map<string, number>()
const queries: Uint8Array[] = []
const hospitals: SeededSigner[] = []
const sites: Site[] = []
const served: SimilarityServed[][] = []
const decisions: Decision[][] = []
const extra: Site[] = []
let client: Site
let dir: Awaited<ReturnType<typeof tempDir>>
let db: Level<string, Uint8Array>
let diagnoses: DiagnosisStore

const S = Math.floor(Date.now() / 1000)

function grant (site: number, abilities: Ability[], selector: Selector = { modality: ['CT'] }): Certificate {
  return issueCertificate({
    audience: doctor.publicKey, resource: { selector }, abilities, notBefore: S - 60, expiry: S + 3600, purpose: 'TREAT'
  }, hospitals[site] as SeededSigner)
}

function seriesOf (site: number): Series[] {
  const custodian = (hospitals[site] as SeededSigner).publicKey
  const out: Series[] = []
  for (let f = 0; f < FAMILIES; f++) {
    const phantom = randomPhantom(11 + f, BASE_SHAPES[f])
    for (let v = site; v < STORED; v += 3) {
      const lfn = `f${f}-v${v}`
      const features = encodeFeatures(extractFeatures(ctVolume(phantom, acquisition, { ...FAMILY_VARIANTS[v], noiseSeed: 100 * f + v })))
      const date = v < 3 ? '20190601' : '20210601'
      out.push({ lfn, features, modality: 'CT', bodyPart: 'CHEST', resource: { owner: custodian, custodian, contentId: `cid-${lfn}`, lfn, modality: 'CT', bodyPart: 'CHEST', date } })
    }
    // The query's own volume, governed by its patient alone: it would score highest, and must never be read.
    const secret = `secret-f${f}-s${site}`
    out.push({ lfn: secret, features: queries[f] as Uint8Array, modality: 'CT', bodyPart: 'CHEST', resource: { owner: patient.publicKey, contentId: `cid-${secret}`, lfn: secret, modality: 'CT', bodyPart: 'CHEST', date: '20210601' } })
    // Same anatomy filed under another body region: covered by a CT-wide grant, but not comparable.
    const head = `head-f${f}-s${site}`
    const headFeatures = encodeFeatures(extractFeatures(ctVolume(phantom, acquisition, { noiseSeed: 7 }, 'HEAD')))
    out.push({ lfn: head, features: headFeatures, modality: 'CT', bodyPart: 'HEAD', resource: { owner: custodian, custodian, contentId: `cid-${head}`, lfn: head, modality: 'CT', bodyPart: 'HEAD', date: '20210601' } })
  }
  return out
}

async function node (services: Record<string, unknown>): Promise<Site> {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: services as never
  })
  return n as unknown as Site
}

/** A hospital node: its index, its access control (audit = the decisions list), its similarity and annotate services. */
async function site (index: number, options: { delayMs?: number } = {}): Promise<Site> {
  const series = seriesOf(index)
  const log: SimilarityServed[] = []
  const audit: Decision[] = []
  const { access, bind } = lateAccess(audit)
  const store = index === 0 ? diagnoses : undefined
  async function * candidates (): AsyncIterable<Candidate> {
    if (options.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, options.delayMs).unref())
    for (const s of series) {
      const diagnosis = (await store?.latest(s.lfn))?.text
      yield {
        lfn: s.lfn,
        modality: s.modality,
        bodyPart: s.bodyPart,
        resource: s.resource,
        ...(diagnosis === undefined ? {} : { diagnosis }),
        features: async () => {
          reads.set(s.lfn, (reads.get(s.lfn) ?? 0) + 1)
          return s.features
        }
      }
    }
  }
  const n = await node({
    similarity: similarityRanking({ access, candidates, custodian: (hospitals[index] as SeededSigner).publicKey, onServed: s => { log.push(s) } }),
    annotate: diagnosisAnnotation({
      access,
      diagnoses: store ?? { add: async () => { throw new Error('no store') } },
      resource: async lfn => series.find(s => s.lfn === lfn)?.resource
    })
  })
  bind(n.peerId.toString())
  served[index] = log
  decisions[index] = audit
  return n
}

/** An authorization for each site, from the given per-site certificate. */
function authWith (certFor: (site: number) => Certificate): FederationQuery['auth'] {
  return (peer, args) => {
    const index = [...sites, ...extra].findIndex(s => s.peerId.equals(peer))
    const cert = certFor(index)
    const invocation = createInvocation({
      audience: peer.toString(), origin: client.peerId.toString(), command: 'similarity', args, proof: cert.id
    }, doctor)
    return encodeAuthorization({ invocation: invocation.bytes, chain: [cert.bytes], memberships: [] })
  }
}

const peers = (list: Site[]): PeerId[] => list.map(s => s.peerId)
const family = (lfn: string): string => lfn.split('-')[0] as string

beforeAll(async () => {
  for (let f = 0; f < FAMILIES; f++) {
    const phantom = randomPhantom(11 + f, BASE_SHAPES[f])
    queries.push(encodeFeatures(extractFeatures(ctVolume(phantom, acquisition, { ...FAMILY_VARIANTS[6], noiseSeed: 100 * f + 6 }))))
  }
  dir = await tempDir()
  db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
  diagnoses = new DiagnosisStore({ db: db.sublevel<string, Uint8Array>('diagnoses', { valueEncoding: 'view' }) })
  for (let i = 0; i < 5; i++) hospitals.push(generateSigner())
  for (let i = 0; i < 3; i++) sites.push(await site(i))
  client = await node({
    similarity: similarityRanking({ access: { check: async () => { throw new Error('not a server') } }, candidates: async function * () {}, custodian: generateSigner().publicKey }),
    annotate: diagnosisAnnotation({ access: { check: async () => { throw new Error('not a server') } }, diagnoses, resource: async () => undefined })
  })
  for (const s of sites) await client.dial(s.getMultiaddrs())
})

afterAll(async () => {
  await Promise.all([...sites, ...extra, client].map(async n => { await n?.stop() }))
  await db?.close()
  await dir?.remove()
})

describe('federated similarity ranking over real TCP', () => {
  for (const measure of ['ncc', 'nmi', 'cr'] as MeasureName[]) {
    it(`${measure}: the top results of each query are its own family, from all three sites`, async () => {
      for (let f = 0; f < FAMILIES; f++) {
        const { results, partial } = await client.services.similarity.rankFederation({
          sites: peers(sites), features: queries[f] as Uint8Array, measure, topK: STORED, auth: authWith(i => grant(i, ['similarity']))
        })
        expect(partial).toEqual([])
        expect(results.map(r => family(r.lfn))).toEqual(Array(STORED).fill(`f${f}`))
        expect(new Set(results.map(r => r.site))).toEqual(new Set(sites.map(s => s.peerId.toString())))
        for (let i = 1; i < results.length; i++) expect(results[i - 1]!.score).toBeGreaterThanOrEqual(results[i]!.score)
        for (const r of results) expect(r).toMatchObject({ modality: 'CT', bodyPart: 'CHEST' })
        expect(results.some(r => 'diagnosis' in r)).toBe(false)
      }
    })
  }

  it('never reads, scores or returns series the chain does not cover or that are not comparable; counts and audits them', async () => {
    for (let i = 0; i < 3; i++) served[i]!.length = 0
    const { results } = await client.services.similarity.rankFederation({
      sites: peers(sites), features: queries[1] as Uint8Array, measure: 'ncc', topK: 100, auth: authWith(i => grant(i, ['similarity']))
    })
    // every covered chest CT of every family, nothing else
    expect(results.map(r => r.lfn).sort()).toEqual(Array.from({ length: FAMILIES * STORED }, (_, k) => `f${Math.floor(k / STORED)}-v${k % STORED}`).sort())
    for (const [lfn, count] of reads) {
      if (lfn.startsWith('secret') || lfn.startsWith('head')) expect([lfn, count]).toEqual([lfn, 0])
    }
    expect([...reads.keys()].some(l => l.startsWith('secret') || l.startsWith('head'))).toBe(false)
    for (let i = 0; i < 3; i++) {
      expect(served[i]).toHaveLength(1)
      expect(served[i]![0]).toMatchObject({ allow: true, candidates: 12, uncovered: 3, incomparable: 3, invalid: 0, ranked: 6, returned: 6, checkedResource: `f0-v${i}` })
      const last = decisions[i]![decisions[i]!.length - 1]!
      expect(last).toMatchObject({ allow: true, command: 'similarity', ability: 'similarity', resource: { lfn: `f0-v${i}` } })
    }
  })

  it('a narrower certificate (by date) narrows the ranking to what it covers', async () => {
    const { results, partial } = await client.services.similarity.rankFederation({
      sites: peers(sites),
      features: queries[2] as Uint8Array,
      measure: 'cr',
      topK: 100,
      auth: authWith(i => grant(i, ['similarity'], { modality: ['CT'], bodyPart: ['CHEST'], date: { from: '20200101' } }))
    })
    expect(partial).toEqual([])
    // v3…v5 are dated 2021, v0…v2 2019
    expect(results.map(r => r.lfn).sort()).toEqual(['f0-v3', 'f0-v4', 'f0-v5', 'f1-v3', 'f1-v4', 'f1-v5', 'f2-v3', 'f2-v4', 'f2-v5'])
    expect(results.slice(0, 3).map(r => family(r.lfn))).toEqual(['f2', 'f2', 'f2'])
  })

  it('a chain that covers nothing, or lacks the similarity ability, is denied and audited at every site', async () => {
    const before = decisions.map(d => d.length)
    for (const [certFor, reason] of [
      [(i: number) => grant(i, ['similarity'], { modality: ['MR'] }), 'RESOURCE_MISMATCH'],
      [(i: number) => grant(i, ['meta/read']), 'ABILITY_MISSING']
    ] as const) {
      const { results, partial } = await client.services.similarity.rankFederation({
        sites: peers(sites), features: queries[0] as Uint8Array, measure: 'ncc', topK: 5, auth: authWith(certFor)
      })
      expect(results).toEqual([])
      expect(partial.map(p => [p.reason, p.remoteReason])).toEqual([['DENIED', reason], ['DENIED', reason], ['DENIED', reason]])
    }
    for (let i = 0; i < 3; i++) {
      expect(decisions[i]!.slice(before[i]).map(d => d.allow ? 'allow' : d.reason)).toEqual(['RESOURCE_MISMATCH', 'ABILITY_MISSING'])
    }
    expect([...reads.keys()].some(l => l.startsWith('secret') || l.startsWith('head'))).toBe(false)
  })

  it('a site that is down or too slow makes the result partial, flagged per site', async () => {
    const down = await site(3)
    const slow = await site(4, { delayMs: 6000 })
    extra.push(down, slow)
    await client.dial(down.getMultiaddrs())
    await client.dial(slow.getMultiaddrs())
    await down.stop()
    const started = Date.now()
    const { results, partial } = await client.services.similarity.rankFederation({
      sites: peers([...sites, down, slow]),
      features: queries[0] as Uint8Array,
      measure: 'nmi',
      topK: 4,
      auth: authWith(i => grant(i, ['similarity'])),
      // Room for the sites that answer on a loaded machine; the slow one takes three times this.
      timeoutMs: 2000
    })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(results.map(r => family(r.lfn))).toEqual(['f0', 'f0', 'f0', 'f0'])
    expect(new Set(results.map(r => r.site)).has(down.peerId.toString())).toBe(false)
    expect(partial.sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { site: slow.peerId.toString(), reason: 'TIMEOUT' },
      { site: down.peerId.toString(), reason: 'UNREACHABLE' }
    ])
  })

  it('answers INVALID to malformed features and keeps serving; refuses bad options before sending', async () => {
    const garbage = Uint8Array.from([1, 2, 3, 4])
    const { partial } = await client.services.similarity.rankFederation({
      sites: peers(sites.slice(0, 1)), features: garbage, measure: 'ncc', topK: 3, auth: authWith(i => grant(i, ['similarity']))
    })
    expect(partial).toEqual([{ site: sites[0]!.peerId.toString(), reason: 'INVALID' }])
    await expect(client.services.similarity.rankFederation({
      sites: peers(sites), features: queries[0] as Uint8Array, measure: 'ncc', topK: 101, auth: authWith(i => grant(i, ['similarity']))
    })).rejects.toMatchObject({ name: 'SimilarityQueryError', option: 'topK' })
    const { results } = await client.services.similarity.rankFederation({
      sites: peers(sites.slice(0, 1)), features: queries[0] as Uint8Array, measure: 'ncc', topK: 2, auth: authWith(i => grant(i, ['similarity']))
    })
    expect(results.map(r => family(r.lfn))).toEqual(['f0', 'f0'])
  })
})

describe('diagnoses: annotate at the master, shown with meta/read', () => {
  const lfn = 'f0-v0' // held by site 0

  function annotateAuth (record: Uint8Array, cert: Certificate): Uint8Array {
    const invocation = createInvocation({
      audience: sites[0]!.peerId.toString(), origin: client.peerId.toString(), command: 'annotate', args: annotateArguments(record), proof: cert.id
    }, doctor)
    return encodeAuthorization({ invocation: invocation.bytes, chain: [cert.bytes], memberships: [] })
  }

  it('denies annotate without the ability, accepts it with, and refuses a record the invoker did not author', async () => {
    const similarityOnly = grant(0, ['similarity'])
    const annotating = grant(0, ['annotate'])
    const denied = createDiagnosis({ lfn, text: 'should not be stored', certificateId: similarityOnly.id }, doctor)
    await expect(client.services.annotate.annotate(sites[0]!.peerId, { record: denied.bytes, auth: annotateAuth(denied.bytes, similarityOnly) }))
      .rejects.toMatchObject({ name: 'DeniedError', reason: 'ABILITY_MISSING' })
    const record = createDiagnosis({ lfn, text: 'Dilated cardiomyopathy, LVEF 30 %.', certificateId: annotating.id }, doctor)
    const id = await client.services.annotate.annotate(sites[0]!.peerId, { record: record.bytes, auth: annotateAuth(record.bytes, annotating) })
    expect(id).toBe(record.id)
    const forged = createDiagnosis({ lfn, text: 'written by someone else', certificateId: annotating.id }, colleague)
    await expect(client.services.annotate.annotate(sites[0]!.peerId, { record: forged.bytes, auth: annotateAuth(forged.bytes, annotating) }))
      .rejects.toMatchObject({ name: 'DeniedError', reason: 'WRONG_AUTHOR' })
    const unknown = createDiagnosis({ lfn: 'f0-v1', text: 'not mastered here', certificateId: annotating.id }, doctor)
    await expect(client.services.annotate.annotate(sites[0]!.peerId, { record: unknown.bytes, auth: annotateAuth(unknown.bytes, annotating) }))
      .rejects.toMatchObject({ name: 'NotFoundError' })
    expect((await diagnoses.get(lfn)).map(d => d.text)).toEqual(['Dilated cardiomyopathy, LVEF 30 %.'])
    expect(decisions[0]!.filter(d => d.command === 'annotate').map(d => d.allow)).toEqual([false, true, true])
  })

  it('shows the diagnosis text only to a chain granting meta/read; requireDiagnosis keeps diagnosed series only', async () => {
    const ask = async (abilities: Ability[], requireDiagnosis: boolean): Promise<Awaited<ReturnType<SimilarityRanking['rankFederation']>>> =>
      await client.services.similarity.rankFederation({
        sites: peers(sites), features: queries[0] as Uint8Array, measure: 'cr', topK: STORED, requireDiagnosis, auth: authWith(i => grant(i, abilities))
      })
    const withMeta = await ask(['similarity', 'meta/read'], false)
    expect(withMeta.results.map(r => family(r.lfn))).toEqual(Array(STORED).fill('f0'))
    expect(withMeta.results.filter(r => r.diagnosis !== undefined).map(r => [r.lfn, r.diagnosis])).toEqual([[lfn, 'Dilated cardiomyopathy, LVEF 30 %.']])
    const without = await ask(['similarity'], false)
    expect(without.results.map(r => r.lfn).sort()).toEqual(withMeta.results.map(r => r.lfn).sort())
    expect(without.results.some(r => 'diagnosis' in r)).toBe(false)
    const onlyDiagnosed = await ask(['similarity', 'meta/read'], true)
    expect(onlyDiagnosed.results.map(r => [r.lfn, r.diagnosis])).toEqual([[lfn, 'Dilated cardiomyopathy, LVEF 30 %.']])
    // sites with no diagnosed series answer, empty
    expect(onlyDiagnosed.partial).toEqual([])
    const diagnosedNoText = await ask(['similarity'], true)
    expect(diagnosedNoText.results.map(r => r.lfn)).toEqual([lfn])
    expect('diagnosis' in diagnosedNoText.results[0]!).toBe(false)
  })
})

describe('answers and merging', () => {
  const hit = (lfn: string, score: number): Record<string, unknown> => ({ lfn, score: encodeScore(score), modality: 'CT', bodyPart: 'CHEST' })

  it('parses a site\'s answer strictly', () => {
    expect(parseHits({ hits: [hit('a', 0.5)] }, { measure: 'ncc', topK: 3 })).toEqual([{ lfn: 'a', score: 0.5, modality: 'CT', bodyPart: 'CHEST' }])
    const bad: Array<[Record<string, unknown>, MeasureName, number]> = [
      [{ hits: [hit('a', 1.5)] }, 'ncc', 3], // outside NCC's [-1, 1]
      [{ hits: [hit('a', 0.5)] }, 'nmi', 3], // outside NMI's [1, 2]
      [{ hits: [hit('a', 0.5), hit('b', 0.4)] }, 'ncc', 1], // more than asked for
      [{ hits: [{ ...hit('a', 0.5), features: new Uint8Array(4) }] }, 'ncc', 3], // no features of others, ever
      [{ hits: [{ ...hit('a', 0.5), score: 0.5 }] }, 'ncc', 3],
      [{ hits: [hit('has space', 0.5)] }, 'ncc', 3],
      [{ hits: [], extra: 1 }, 'ncc', 3]
    ]
    for (const [body, measure, topK] of bad) expect(() => parseHits(body, { measure, topK })).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
  })

  it('merges the best K across sites, one entry per LFN, deterministically', () => {
    const h = (lfn: string, score: number): { lfn: string, score: number, modality: string, bodyPart: string } => ({ lfn, score, modality: 'CT', bodyPart: 'CHEST' })
    const merged = mergeHits([
      { site: 'B', hits: [h('x', 0.9), h('y', 0.5)] },
      { site: 'A', hits: [h('z', 0.9), h('x', 0.7)] },
      { site: 'C', hits: [h('w', 0.1)] }
    ], 3)
    expect(merged.map(m => [m.site, m.lfn, m.score])).toEqual([['A', 'z', 0.9], ['B', 'x', 0.9], ['B', 'y', 0.5]])
  })
})
