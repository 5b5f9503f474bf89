import { noise } from '@chainsafe/libp2p-noise'
import type { PeerId } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamMuxer } from '../../src/node/libp2p.js'
import {
  covers, metadataQuery, queryArguments, witnessOf, QUERY_CONTENT_ID, QUERY_LIMITS, QUERY_PROTOCOL, type MetadataQuery, type QueryRecord,
  type QueryServiceLimits
} from '../../src/protocols/query/index.js'
import { rpcServer } from '../../src/protocols/rpc.js'
import { parseCanonical, type QueryNode } from '../../src/query/index.js'
import {
  accessControl, createInvocation, delegate, encodeAuthorization, generateSigner, issueCertificate,
  type Ability, type Certificate, type Decision, type ResourceDescriptor, type Selector, type Signer
} from '../../src/sac/index.js'
import { lateAccess } from './late-access.js'

type QueryNode2 = Libp2p<{ query: MetadataQuery }>
const nodes: QueryNode2[] = []
const S = Math.floor(Date.now() / 1000)
const doctor = generateSigner()

interface Site { node: QueryNode2, custodian: Signer, decisions: Decision[] }

interface Row { lfn: string, modality: string, bodyPart: string, date: string, patientID: string, rows?: number, spacing?: number }

function record (custodian: Signer, r: Row): QueryRecord {
  return {
    lfn: r.lfn,
    // `studyDate` is identifying: put here by mistake, it must be ignored.
    descriptive: { modality: r.modality, bodyPart: r.bodyPart, rows: r.rows ?? 256, pixelSpacing: r.spacing ?? 0.7, studyDate: r.date },
    identifying: { patientID: r.patientID, studyDate: r.date, patientName: 'Doe^Jane' },
    resource: { owner: custodian.publicKey, custodian: custodian.publicKey, contentId: `cid-${r.lfn}`, lfn: r.lfn, modality: r.modality, bodyPart: r.bodyPart, date: r.date }
  }
}

async function sleep (ms: number): Promise<void> { await new Promise(resolve => setTimeout(resolve, ms)) }

async function site (rows: Row[], opts: { delayMs?: number, limits?: QueryServiceLimits } = {}): Promise<Site> {
  const custodian = generateSigner()
  const decisions: Decision[] = []
  const { access, bind } = lateAccess(decisions)
  const records = async function * (): AsyncIterable<QueryRecord> {
    if (opts.delayMs !== undefined) await sleep(opts.delayMs)
    for (const r of rows) yield record(custodian, r)
  }
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: {
      query: metadataQuery({
        access,
        custodian: custodian.publicKey,
        records,
        ...(opts.limits === undefined ? {} : { limits: opts.limits })
      })
    }
  })
  bind(node.peerId.toString())
  nodes.push(node)
  return { node, custodian, decisions }
}

function grant (custodian: Signer, selector: Selector, abilities: Ability[]): Certificate {
  return issueCertificate({ audience: doctor.publicKey, resource: { selector }, abilities, notBefore: S - 60, expiry: S + 3600, purpose: 'TREAT' }, custodian)
}

function authFor (client: QueryNode2, server: PeerId, chain: Certificate[], args: Uint8Array): Uint8Array {
  const leaf = chain[chain.length - 1] as Certificate
  const invocation = createInvocation({ audience: server.toString(), origin: client.peerId.toString(), command: 'query', args, proof: leaf.id }, doctor)
  return encodeAuthorization({ invocation: invocation.bytes, chain: chain.map(c => c.bytes), memberships: [] })
}

let A: Site, B: Site, C: Site, client: QueryNode2
/** The doctor's chains, by site peer id. */
const chains = new Map<string, Certificate[]>()
const identifiedChains = new Map<string, Certificate[]>()
const auth = (peer: PeerId, args: Uint8Array): Uint8Array | undefined => {
  const chain = chains.get(peer.toString())
  return chain === undefined ? undefined : authFor(client, peer, chain, args)
}
const identifiedAuth = (peer: PeerId, args: Uint8Array): Uint8Array | undefined => {
  const chain = identifiedChains.get(peer.toString())
  return chain === undefined ? undefined : authFor(client, peer, chain, args)
}

async function know (peer: QueryNode2): Promise<void> {
  await client.peerStore.merge(peer.peerId, { multiaddrs: peer.getMultiaddrs() })
}

beforeAll(async () => {
  A = await site([
    { lfn: 'lfn-a1', modality: 'MR', bodyPart: 'HEART', date: '20030514', patientID: 'MR X' },
    { lfn: 'lfn-a2', modality: 'CT', bodyPart: 'CHEST', date: '20040101', patientID: 'P2' }
  ])
  B = await site([
    { lfn: 'lfn-b1', modality: 'MR', bodyPart: 'HEART', date: '20050505', patientID: 'P3' },
    { lfn: 'lfn-b2', modality: 'CT', bodyPart: 'HEART', date: '20050506', patientID: 'P4' },
    { lfn: 'lfn-shared', modality: 'MR', bodyPart: 'HEART', date: '20060606', patientID: 'P5' }
  ])
  C = await site([
    { lfn: 'lfn-c1', modality: 'MR', bodyPart: 'HEAD', date: '20070707', patientID: 'P6', spacing: 1.25 },
    { lfn: 'lfn-shared', modality: 'MR', bodyPart: 'HEART', date: '20060606', patientID: 'P5' }
  ])
  client = (await site([])).node
  for (const s of [A, C]) {
    chains.set(s.node.peerId.toString(), [grant(s.custodian, {}, ['query'])])
    identifiedChains.set(s.node.peerId.toString(), [grant(s.custodian, {}, ['meta/read-identified', 'query'])])
  }
  // At B the doctor may only query MR series.
  chains.set(B.node.peerId.toString(), [grant(B.custodian, { modality: ['MR'] }, ['query'])])
  for (const s of [A, B, C]) await know(s.node)
})

afterAll(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

const lfns = (results: Array<{ lfn: string }>): string[] => results.map(r => r.lfn)

describe('federated metadata query over real TCP', () => {
  it('returns the union of what each site allows, merged and de-duplicated by LFN', async () => {
    const sites = [A, B, C].map(s => s.node.peerId)
    const heart = await client.services.query.fanOut({ sites, query: 'bodyPart = "heart"', auth, timeoutMs: 5000 })
    expect(heart.partial).toEqual([])
    expect(heart.truncated).toBe(false)
    // lfn-b2 is a CT at B, outside the doctor's MR-only certificate there.
    expect(lfns(heart.results)).toEqual(['lfn-a1', 'lfn-b1', 'lfn-shared'])
    const shared = heart.results.find(r => r.lfn === 'lfn-shared')
    expect(shared?.sites).toEqual([B.node.peerId.toString(), C.node.peerId.toString()].sort())
    expect(heart.results[0]).toEqual({ lfn: 'lfn-a1', fields: { modality: 'MR', bodyPart: 'HEART', rows: 256, pixelSpacing: 0.7 }, sites: [A.node.peerId.toString()] })

    const all = await client.services.query.fanOut({ sites, query: 'rows > 0', auth })
    expect(lfns(all.results)).toEqual(['lfn-a1', 'lfn-a2', 'lfn-b1', 'lfn-c1', 'lfn-shared'])
    const fine = await client.services.query.fanOut({ sites, query: 'pixelSpacing >= 1.2 AND NOT modality = "CT"', auth })
    expect(lfns(fine.results)).toEqual(['lfn-c1'])
    expect(fine.results[0]?.fields.pixelSpacing).toBe(1.25)
  })

  it('includes the asking site itself, through the same checks', async () => {
    const fromA = (peer: PeerId, args: Uint8Array): Uint8Array | undefined => {
      const chain = chains.get(peer.toString())
      return chain === undefined ? undefined : authFor(A.node, peer, chain, args)
    }
    await A.node.peerStore.merge(C.node.peerId, { multiaddrs: C.node.getMultiaddrs() })
    const before = A.decisions.length
    const result = await A.node.services.query.fanOut({ sites: [A.node.peerId, C.node.peerId], query: 'modality = "MR"', auth: fromA })
    expect(result.partial).toEqual([])
    expect(lfns(result.results)).toEqual(['lfn-a1', 'lfn-c1', 'lfn-shared'])
    expect(A.decisions.slice(before).map(d => [d.allow, d.remotePeer])).toEqual([[true, A.node.peerId.toString()]])
    // An invocation made for another origin is refused locally too.
    const wrongOrigin = await A.node.services.query.fanOut({ sites: [A.node.peerId], query: 'modality = "MR"', auth })
    expect(wrongOrigin.partial).toEqual([{ peer: A.node.peerId.toString(), reason: 'DENIED', code: 'WRONG_ORIGIN' }])
  })

  it('a site whose certificate covers only MR returns only MR, and audits one decision per query', async () => {
    const before = B.decisions.length
    const ast = parseCanonical('bodyPart = "HEART"')
    const args = queryArguments(ast, false, 50)
    const answer = await client.services.query.ask(B.node.peerId, { query: ast, identified: false, limit: 50, auth: auth(B.node.peerId, args) as Uint8Array })
    expect(lfns(answer.results)).toEqual(['lfn-b1', 'lfn-shared'])
    expect(answer.results.every(r => r.fields.modality === 'MR')).toBe(true)
    const decisions = B.decisions.slice(before)
    expect(decisions).toHaveLength(1)
    expect(decisions[0]).toMatchObject({ allow: true, command: 'query', ability: 'query', resource: { contentId: QUERY_CONTENT_ID } })
  })

  it('refuses identifying fields without the right and returns them with it', async () => {
    const sites = [A.node.peerId]
    // Not asked as identified: refused here, before anything is sent…
    await expect(client.services.query.fanOut({ sites, query: 'patientID = "MR X"', auth })).rejects.toMatchObject({ name: 'IdentifyingFieldError' })
    // …and by the site, whatever the requester checked.
    const ast = parseCanonical('patientID = "MR X" AND date = "14May2003"')
    const plain = queryArguments(ast, false, 10)
    await expect(client.services.query.ask(A.node.peerId, { query: ast, identified: false, limit: 10, auth: auth(A.node.peerId, plain) as Uint8Array }))
      .rejects.toMatchObject({ name: 'DeniedError', reason: 'IDENTIFYING_FIELD' })
    // Asked as identified under a chain without meta/read-identified.
    const noRight = await client.services.query.fanOut({ sites, query: 'patientID = "MR X"', identified: true, auth })
    expect(noRight.results).toEqual([])
    expect(noRight.partial).toEqual([{ peer: A.node.peerId.toString(), reason: 'DENIED', code: 'ABILITY_MISSING' }])
    // With the right.
    const ok = await client.services.query.fanOut({ sites, query: 'patientID = "MR X" AND date = "14May2003"', identified: true, auth: identifiedAuth })
    expect(ok.partial).toEqual([])
    expect(ok.results).toHaveLength(1)
    expect(ok.results[0]?.identifying).toEqual({ patientID: 'MR X', studyDate: '20030514', patientName: 'DOE^JANE' })
    // A plain query never carries identifying fields, even when the source hands them over.
    const plainResults = await client.services.query.fanOut({ sites, query: 'modality = "MR"', auth })
    expect(plainResults.results.map(r => Object.keys(r).sort())).toEqual([['fields', 'lfn', 'sites']])
    expect(Object.keys(plainResults.results[0]?.fields ?? {})).not.toContain('studyDate')
  })

  it('answers INVALID for an unknown field or a malformed AST, and keeps serving', async () => {
    const bad = async (query: unknown): Promise<unknown> => {
      const args = queryArguments(parseCanonical('rows > 0'), false, 10)
      return await client.services.query.ask(A.node.peerId, { query: query as QueryNode, identified: false, limit: 10, auth: auth(A.node.peerId, args) as Uint8Array }).catch(e => e)
    }
    expect(await bad({ type: 'compare', field: 'favouriteColour', op: '=', value: 'blue' })).toMatchObject({ name: 'InvalidRequestError', reason: 'UnknownFieldError' })
    expect(await bad({ type: 'xor', operands: [] })).toMatchObject({ name: 'InvalidRequestError', reason: 'QueryAstError' })
    expect(await bad({ type: 'compare', field: 'modality', op: '=', value: 'mr' })).toMatchObject({ name: 'InvalidRequestError', reason: 'QueryAstError' })
    expect(await bad({ type: 'compare', field: 'rows', op: 'LIKE', value: 1 })).toMatchObject({ name: 'InvalidRequestError', reason: 'QueryAstError' })
    // A query text with an unknown field fails locally with the position.
    await expect(client.services.query.fanOut({ sites: [A.node.peerId], query: 'colour = "blue"', auth })).rejects.toMatchObject({ name: 'UnknownFieldError', position: 0 })
    const after = await client.services.query.fanOut({ sites: [A.node.peerId], query: 'modality = "CT"', auth })
    expect(lfns(after.results)).toEqual(['lfn-a2'])
  })

  it('lists a site that is down or slow in partial and still answers from the others', async () => {
    const down = await site([{ lfn: 'lfn-d1', modality: 'MR', bodyPart: 'HEART', date: '20010101', patientID: 'P9' }])
    const slow = await site([{ lfn: 'lfn-s1', modality: 'MR', bodyPart: 'HEART', date: '20010101', patientID: 'P9' }], { delayMs: 6000 })
    for (const s of [down, slow]) {
      chains.set(s.node.peerId.toString(), [grant(s.custodian, {}, ['query'])])
      await know(s.node)
    }
    await down.node.stop()
    const stranger = (await site([])).node
    const started = Date.now()
    const result = await client.services.query.fanOut({
      sites: [A.node.peerId, down.node.peerId, slow.node.peerId, C.node.peerId, stranger.peerId],
      query: 'bodyPart = "HEART"',
      auth,
      timeoutMs: 1500
    })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(lfns(result.results)).toEqual(['lfn-a1', 'lfn-shared'])
    const expected = [
      { peer: down.node.peerId.toString(), reason: 'UNREACHABLE' },
      { peer: slow.node.peerId.toString(), reason: 'TIMEOUT' },
      { peer: stranger.peerId.toString(), reason: 'NO_AUTHORIZATION' }
    ].sort((a, b) => a.peer < b.peer ? -1 : 1)
    expect(result.partial).toEqual(expected)
  })

  it('denies a replayed invocation', async () => {
    const ast = parseCanonical('modality = "MR"')
    const once = auth(C.node.peerId, queryArguments(ast, false, 10)) as Uint8Array
    const request = { query: ast, identified: false, limit: 10, auth: once }
    expect(lfns((await client.services.query.ask(C.node.peerId, request)).results)).toEqual(['lfn-c1', 'lfn-shared'])
    await expect(client.services.query.ask(C.node.peerId, request)).rejects.toMatchObject({ name: 'DeniedError', reason: 'REPLAY' })
    // An invocation is bound to its query, flag and limit.
    await expect(client.services.query.ask(C.node.peerId, { ...request, limit: 11, auth: auth(C.node.peerId, queryArguments(ast, false, 10)) as Uint8Array }))
      .rejects.toMatchObject({ name: 'DeniedError', reason: 'INVOCATION_MISMATCH' })
    const replayed = await client.services.query.fanOut({ sites: [C.node.peerId], query: 'modality = "MR"', limit: 10, auth: () => once })
    expect(replayed.partial).toEqual([{ peer: C.node.peerId.toString(), reason: 'DENIED', code: 'REPLAY' }])
  })

  it('caps the results a site returns and says the answer is truncated', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ lfn: `lfn-m${String(i).padStart(2, '0')}`, modality: 'MR', bodyPart: 'HEART', date: '20100101', patientID: `P${i}` }))
    const big = await site(rows, { limits: { maxResults: 15 } })
    chains.set(big.node.peerId.toString(), [grant(big.custodian, {}, ['query'])])
    await know(big.node)
    const few = await client.services.query.fanOut({ sites: [big.node.peerId], query: 'modality = "MR"', limit: 10, auth })
    expect(few.results).toHaveLength(10)
    expect(few.truncated).toBe(true)
    const capped = await client.services.query.fanOut({ sites: [big.node.peerId], query: 'modality = "MR"', limit: 100, auth })
    expect(capped.results).toHaveLength(15)
    expect(capped.truncated).toBe(true)
    const exact = await client.services.query.fanOut({ sites: [big.node.peerId], query: 'lfn LIKE "lfn-m0*"', limit: 10, auth })
    expect(exact.results).toHaveLength(10)
    expect(exact.truncated).toBe(false)
    // The byte cap: a small answer budget holds only a few results.
    const tight = await site(rows, { limits: { maxResponseBytes: 1024 } })
    chains.set(tight.node.peerId.toString(), [grant(tight.custodian, {}, ['query'])])
    await know(tight.node)
    const small = await client.services.query.fanOut({ sites: [tight.node.peerId], query: 'modality = "MR"', limit: 100, auth })
    expect(small.results.length).toBeGreaterThan(0)
    expect(small.results.length).toBeLessThan(15)
    expect(small.truncated).toBe(true)
  })

  it('refuses an answer that breaks the protocol (fields outside the schema, identifying fields not asked for)', async () => {
    const rogue = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [streamMuxer()] })
    nodes.push(rogue as unknown as QueryNode2)
    let body: Record<string, unknown> = {}
    await rogue.handle(QUERY_PROTOCOL, rpcServer(QUERY_LIMITS, async () => ({ status: 'OK', body }), rogue.logger.forComponent('rogue')))
    await client.peerStore.merge(rogue.peerId, { multiaddrs: rogue.getMultiaddrs() })
    chains.set(rogue.peerId.toString(), [grant(generateSigner(), {}, ['query'])])
    const ask = async (): Promise<unknown> => await client.services.query.fanOut({ sites: [rogue.peerId, A.node.peerId], query: 'modality = "MR"', auth })
    body = { results: JSON.stringify([{ lfn: 'lfn-r1', fields: { modality: 'MR', patientID: 'P1' } }]), truncated: false }
    expect(await ask()).toMatchObject({ results: [{ lfn: 'lfn-a1' }], partial: [{ peer: rogue.peerId.toString(), reason: 'BAD_ANSWER' }] })
    body = { results: JSON.stringify([{ lfn: 'lfn-r1', fields: { modality: 'MR' }, identifying: { patientID: 'P1' } }]), truncated: false }
    expect(await ask()).toMatchObject({ partial: [{ peer: rogue.peerId.toString(), reason: 'BAD_ANSWER' }] })
    body = { results: JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ lfn: `lfn-r${i}`, fields: {} }))), truncated: false }
    expect(await ask()).toMatchObject({ partial: [{ peer: rogue.peerId.toString(), reason: 'BAD_ANSWER' }] })
    // Well-formed, but not what was asked: dropped in the merge.
    body = { results: JSON.stringify([{ lfn: 'lfn-r1', fields: { modality: 'CT' } }]), truncated: false }
    expect(await ask()).toMatchObject({ results: [{ lfn: 'lfn-a1' }], partial: [] })
  })
})

describe('coverage: one check per query, then the access-control resource rule per record', () => {
  const hospital = generateSigner()
  const resident = generateSigner()
  const other = generateSigner()
  const descriptor = (modality: string, date: string, owner = hospital.publicKey): ResourceDescriptor =>
    ({ owner, custodian: hospital.publicKey, contentId: `cid-${modality}-${date}`, lfn: `lfn-${modality}-${date}`, modality, bodyPart: 'HEART', date })
  const root = issueCertificate({
    audience: doctor.publicKey, resource: { selector: { modality: ['CT', 'MR'] } }, abilities: ['delegate', 'query'], depth: 1, notBefore: S - 60, expiry: S + 3600, purpose: 'TREAT'
  }, hospital)
  const child = delegate(root, { audience: resident.publicKey, resource: { selector: { modality: ['MR'], date: { from: '20030101', to: '20031231' } } }, abilities: ['query'] }, doctor)

  it('builds a witness inside every link, and nothing for links with nothing in common', () => {
    expect(witnessOf([root, child], hospital.publicKey)).toEqual({ owner: hospital.publicKey, custodian: hospital.publicKey, contentId: QUERY_CONTENT_ID, modality: 'MR', date: '20030101' })
    expect(witnessOf([root], hospital.publicKey)).toEqual({ owner: hospital.publicKey, custodian: hospital.publicKey, contentId: QUERY_CONTENT_ID, modality: 'CT' })
    const mr = grant(hospital, { modality: ['MR'] }, ['query'])
    const ct = grant(hospital, { modality: ['CT'] }, ['query'])
    expect(witnessOf([mr, ct], hospital.publicKey)).toBeUndefined()
  })

  it('agrees with AccessControl.evaluate on every record', () => {
    const ac = accessControl({ serverPeer: 'server' })
    const records = [
      descriptor('MR', '20030514'), descriptor('MR', '20040514'), descriptor('CT', '20030514'),
      descriptor('MR', '20030101'), descriptor('MR', '20031231'), descriptor('MR', '20030514', other.publicKey)
    ]
    const verdicts = records.map(r => {
      const invocation = createInvocation({ audience: 'server', origin: 'client', command: 'query', args: new Uint8Array(32), proof: child.id }, resident)
      const d = ac.evaluate({ invocation: invocation.bytes, chain: [root.bytes, child.bytes], command: 'query', args: new Uint8Array(32), resource: r, ability: 'query', remotePeer: 'client' })
      return d.allow
    })
    expect(verdicts).toEqual([true, false, false, true, true, true])
    expect(records.map(r => covers([root, child], r))).toEqual(verdicts)
    // A chain rooted at another key covers none of this custodian's records.
    const foreign = grant(other, {}, ['query'])
    expect(covers([foreign], descriptor('MR', '20030514'))).toBe(false)
  })
})
