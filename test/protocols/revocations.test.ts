/**
 * `/dm2/revocations/1.0.0` over real TCP libp2p nodes, each with its own
 * revocation store in LevelDB: a revocation issued at one end of a line of
 * four nodes stops the certificate at the other end within one push round;
 * bad frames and forged revocations are refused and go no further.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { Level } from 'level'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCbor } from '../../src/codec/cbor.js'
import { streamMuxer } from '../../src/node/libp2p.js'
import { MAX_FRAME_BYTES, revocationPush, REVOCATIONS_PROTOCOL, type RevocationPush } from '../../src/protocols/revocations/index.js'
import { decodeResult, encodePush } from '../../src/protocols/revocations/frames.js'
import {
  accessControl, createInvocation, createRevocation, delegate, encodeCanonical, generateSigner, hashArguments,
  issueCertificate, REVOCATION_RECORD, RevocationStore, signRecord
} from '../../src/sac/index.js'
import type { AccessRequest, Certificate, SeededSigner } from '../../src/sac/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

type RevocationNode = Libp2p<{ revocations: RevocationPush }> & { store: RevocationStore }

const patient = generateSigner()
const doctor = generateSigner()
const resident = generateSigner()
const mallory = generateSigner()
const CLIENT = '12D3KooWClientPeerBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'

let dir: Awaited<ReturnType<typeof tempDir>>
let db: Level<string, Uint8Array>
const nodes: RevocationNode[] = []
let root: Certificate
let child: Certificate

async function node (name: string): Promise<RevocationNode> {
  const store = await RevocationStore.open({ db: db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' }) })
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: { revocations: revocationPush({ store }) }
  })
  const n = Object.assign(libp2p, { store })
  nodes.push(n)
  return n
}

function at (i: number): RevocationNode {
  return nodes[i] as RevocationNode
}

/** A request the resident makes to `server` with the chain root → child. */
function requestTo (server: RevocationNode, signer: SeededSigner = resident): AccessRequest {
  const args = hashArguments({ lfn: 'lfn-1' })
  return {
    invocation: createInvocation({ audience: server.peerId.toString(), origin: CLIENT, command: 'image/get', args, proof: child.id, now: Date.now() }, signer).bytes,
    chain: [root.bytes, child.bytes],
    command: 'image/get',
    args,
    resource: { owner: patient.publicKey, contentId: 'bafy-1', lfn: 'lfn-1', modality: 'CT' },
    ability: 'image/read',
    remotePeer: CLIENT
  }
}

beforeAll(async () => {
  dir = await tempDir()
  db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
  await db.open()
  for (const name of ['n1', 'n2', 'n3', 'n4']) await node(name)
  // A line: 1 — 2 — 3 — 4.
  for (let i = 0; i < 3; i++) await at(i).dial(at(i + 1).getMultiaddrs())
  const s = Math.floor(Date.now() / 1000)
  root = issueCertificate({ audience: doctor.publicKey, resource: { selector: { modality: ['CT'] } }, abilities: ['delegate', 'image/read'], notBefore: s - 60, expiry: s + 86_400, depth: 1, purpose: 'TREAT' }, patient)
  child = delegate(root, { audience: resident.publicKey }, doctor)
})

afterAll(async () => {
  await Promise.all(nodes.map(async n => { await n.stop() }))
  await db.close()
  await dir.remove()
})

describe('revocation push over real TCP', () => {
  it('refuses garbage and oversized frames, and keeps serving', async () => {
    const target = at(1)
    const raw = async (frame: Uint8Array): Promise<ReturnType<typeof decodeResult>> => {
      const stream = await at(0).dialProtocol(target.peerId, REVOCATIONS_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
      await lp.write(frame)
      const result = decodeResult((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray(), 0)
      await stream.close()
      return result
    }
    expect(await raw(new Uint8Array([1, 0xff, 0x00, 0x13]))).toEqual({ status: 'INVALID', reason: 'MALFORMED', results: [] })
    expect(await raw(encodePush([]))).toMatchObject({ status: 'INVALID' })
    expect(await raw(new Uint8Array([1, ...encodeCbor({ v: 1, notices: [new Uint8Array(40 * 1024)] })]))).toMatchObject({ status: 'INVALID' })
    expect(await raw(new Uint8Array([9, 1, 2, 3]))).toMatchObject({ status: 'INVALID' })
    expect(target.services.revocations.stats.invalidFrames).toBe(4)
    // A length prefix above the frame cap: the stream is dropped before anything is allocated.
    const stream = await at(0).dialProtocol(target.peerId, REVOCATIONS_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: 2 * MAX_FRAME_BYTES })
    await lp.write(new Uint8Array(MAX_FRAME_BYTES + 1))
    await expect(lp.read({ signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    expect(target.services.revocations.stats.invalidFrames).toBe(5)
    expect(target.store.size).toBe(0)
  })

  it('refuses a forged revocation (signed by someone outside the chain) and does not forward it', async () => {
    const record = signRecord(REVOCATION_RECORD, { target: Buffer.from(child.id, 'hex'), revoker: mallory.publicKey, at: Math.floor(Date.now() / 1000), reason: 'unspecified' }, mallory)
    const forged = encodeCanonical({ record: record.bytes, chain: [root.bytes, child.bytes], memberships: [] }, 32 * 1024)
    await expect(at(0).services.revocations.push(at(1).peerId, [forged])).rejects.toMatchObject({ name: 'InvalidRequestError', reason: 'NOT_ISSUER' })
    await expect(at(0).services.revocations.publish(forged)).rejects.toMatchObject({ name: 'RevocationRefusedError', reason: 'NOT_ISSUER' })
    expect(at(1).services.revocations.stats.refused).toBe(1)
    expect(at(1).store.isRevoked(child.id)).toBe(false)
    expect(at(2).services.revocations.stats.received).toBe(0)
  })

  it('a revocation issued at node 1 stops the certificate at node 4 within one push round', async () => {
    const ac = accessControl({ serverPeer: at(3).peerId.toString(), revocations: at(3).store })
    expect((await ac.check(requestTo(at(3)))).allow).toBe(true)

    const { notice } = createRevocation({ chain: [root, child], reason: 'privilege-withdrawn' }, doctor)
    const received = nodes.map(n => n.services.revocations.stats.received)
    const started = Date.now()
    const result = await at(0).services.revocations.publish(notice)
    expect(result).toEqual({ fresh: true, peers: 1, delivered: 1 })
    await waitFor(() => at(3).store.isRevoked(child.id), 5000, 'the revocation at node 4')
    expect(Date.now() - started).toBeLessThan(5000)

    const decision = await ac.check(requestTo(at(3)))
    expect(decision.allow ? 'ALLOW' : decision.reason).toBe('REVOKED')
    // Each node verified and stored it once and forwarded it once: no echo back along the line.
    expect(nodes.map(n => n.services.revocations.stats.accepted)).toEqual([0, 1, 1, 1])
    expect(nodes.map((n, i) => n.services.revocations.stats.received - (received[i] as number))).toEqual([0, 1, 1, 1])
    expect(nodes.every(n => n.store.isRevoked(child.id))).toBe(true)
    // Publishing again delivers, but nobody forwards a revocation they already hold.
    expect(await at(0).services.revocations.publish(notice)).toEqual({ fresh: false, peers: 1, delivered: 1 })
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(nodes.map((n, i) => n.services.revocations.stats.received - (received[i] as number))).toEqual([0, 2, 1, 1])
  })

  it('a node that connects later catches up through the sync on connection', async () => {
    const late = await node('n5')
    await late.dial(at(3).getMultiaddrs())
    await waitFor(() => late.store.isRevoked(child.id), 5000, 'the sync to the late node')
    expect(late.services.revocations.stats.accepted).toBe(1)
  })
})
