import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { streamMuxer } from '../../src/node/libp2p.js'
import { generateDataKey, generateRecipientKeyPair, unwrapDataKey } from '../../src/privacy/payload/index.js'
import { keyArguments, keyRelease, releaseKey, wrapAhead, type KeyRelease, KEYS_PROTOCOL } from '../../src/protocols/keys/index.js'
import {
  createInvocation, encodeAuthorization, generateSigner, issueCertificate, type Decision, type ResourceDescriptor
} from '../../src/sac/index.js'
import { lateAccess } from './late-access.js'

type KeyNode = Libp2p<{ keys: KeyRelease }>
const nodes: KeyNode[] = []
afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

const hospital = generateSigner()
const doctor = generateSigner()
const dataKey = generateDataKey()
const S = Math.floor(Date.now() / 1000)
const resource: ResourceDescriptor = { owner: hospital.publicKey, custodian: hospital.publicKey, contentId: 'cid-1', lfn: 'lfn-1', modality: 'CT', bodyPart: 'HEART' }

async function node (decisions: Decision[] = []): Promise<KeyNode> {
  const { access, bind } = lateAccess(decisions)
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: { keys: keyRelease({ access, keys: { get: async (lfn, version) => lfn === 'lfn-1' && version === 1 ? { dataKey, resource } : undefined } }) }
  })
  bind(n.peerId.toString())
  nodes.push(n)
  return n
}

function grant (modality: 'CT' | 'MR' = 'CT'): ReturnType<typeof issueCertificate> {
  return issueCertificate({
    audience: doctor.publicKey,
    resource: { selector: { modality: [modality] } },
    abilities: ['image/read'],
    notBefore: S - 60,
    expiry: S + 3600,
    purpose: 'TREAT'
  }, hospital)
}

function auth (server: KeyNode, client: KeyNode, recipient: Uint8Array, cert = grant(), lfn = 'lfn-1'): Uint8Array {
  const invocation = createInvocation({
    audience: server.peerId.toString(),
    origin: client.peerId.toString(),
    command: 'keys/release',
    args: keyArguments(lfn, 1, recipient),
    proof: cert.id
  }, doctor)
  return encodeAuthorization({ invocation: invocation.bytes, chain: [cert.bytes], memberships: [] })
}

describe('key release over real TCP', () => {
  it('wraps the data key to the requester\'s key, for that file only', async () => {
    const decisions: Decision[] = []
    const server = await node(decisions)
    const client = await node()
    await client.dial(server.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    const wrapped = await client.services.keys.request(server.peerId, { lfn: 'lfn-1', version: 1, recipient: recipient.publicKey, auth: auth(server, client, recipient.publicKey) })
    expect(Buffer.compare(await unwrapDataKey(wrapped, recipient.privateKey, { fileId: 'lfn-1', version: 1 }), dataKey)).toBe(0)
    await expect(unwrapDataKey(wrapped, generateRecipientKeyPair().privateKey, { fileId: 'lfn-1', version: 1 })).rejects.toThrow()
    await expect(unwrapDataKey(wrapped, recipient.privateKey, { fileId: 'lfn-2', version: 1 })).rejects.toThrow()
    expect(decisions.map(d => d.allow)).toEqual([true])
  })

  it('denies without the right, replays and other recipients; audits every decision', async () => {
    const decisions: Decision[] = []
    const server = await node(decisions)
    const client = await node()
    await client.dial(server.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    const ask = async (a: Uint8Array, r = recipient.publicKey): Promise<unknown> =>
      await client.services.keys.request(server.peerId, { lfn: 'lfn-1', version: 1, recipient: r, auth: a }).catch(e => e)
    // A certificate for MR does not open a CT.
    expect(await ask(auth(server, client, recipient.publicKey, grant('MR')))).toMatchObject({ name: 'DeniedError', reason: 'RESOURCE_MISMATCH' })
    // An invocation bound to one recipient cannot fetch the key for another.
    const other = generateRecipientKeyPair()
    expect(await ask(auth(server, client, recipient.publicKey), other.publicKey)).toMatchObject({ name: 'DeniedError' })
    // A replayed invocation is refused.
    const once = auth(server, client, recipient.publicKey)
    expect(await ask(once)).toBeInstanceOf(Uint8Array)
    expect(await ask(once)).toMatchObject({ name: 'DeniedError', reason: 'REPLAY' })
    expect(decisions.map(d => d.allow)).toEqual([false, false, true, false])
  })

  it('says NOT_FOUND for an unknown LFN and INVALID for garbage, and keeps serving', async () => {
    const server = await node()
    const client = await node()
    await client.dial(server.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    await expect(client.services.keys.request(server.peerId, { lfn: 'lfn-9', version: 1, recipient: recipient.publicKey, auth: auth(server, client, recipient.publicKey, grant(), 'lfn-9') }))
      .rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(client.services.keys.request(server.peerId, { lfn: 'lfn-1', version: 1, recipient: recipient.publicKey, auth: new Uint8Array([1, 2, 3]) }))
      .rejects.toMatchObject({ name: 'InvalidRequestError' })
    const raw = await client.dialProtocol(server.peerId, KEYS_PROTOCOL)
    raw.send(new Uint8Array([0x05, 1, 2, 3, 4, 5]))
    await raw.close()
    const wrapped = await client.services.keys.request(server.peerId, { lfn: 'lfn-1', version: 1, recipient: recipient.publicKey, auth: auth(server, client, recipient.publicKey) })
    expect(wrapped.byteLength).toBeGreaterThan(32)
  })
})

describe('a key release wrapped ahead (while the image is built)', () => {
  async function setting (): Promise<{ release: (ahead?: ReturnType<typeof wrapAhead>, cert?: ReturnType<typeof grant>) => Promise<{ status: string, body?: unknown }>, recipient: ReturnType<typeof generateRecipientKeyPair>, request: { lfn: string, version: number, recipient: Uint8Array, auth: Uint8Array }, decisions: Decision[] }> {
    const server = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const client = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const decisions: Decision[] = []
    const { access, bind } = lateAccess(decisions)
    bind(server.toString())
    const recipient = generateRecipientKeyPair()
    const keys = { get: async (lfn: string, version: number) => lfn === 'lfn-1' && version === 1 ? { dataKey, resource } : undefined }
    const authFor = (cert: ReturnType<typeof grant>): Uint8Array => encodeAuthorization({
      invocation: createInvocation({ audience: server.toString(), origin: client.toString(), command: 'keys/release', args: keyArguments('lfn-1', 1, recipient.publicKey), proof: cert.id }, doctor).bytes,
      chain: [cert.bytes],
      memberships: []
    })
    const request = { lfn: 'lfn-1', version: 1, recipient: recipient.publicKey, auth: new Uint8Array(0) }
    return {
      // A fresh invocation each time (one would be refused as a replay).
      release: async (ahead, cert) => await releaseKey({ access, keys }, { ...request, auth: authFor(cert ?? grant()) }, client, ahead),
      recipient,
      request,
      decisions
    }
  }

  it('hands out the wrap made ahead when its key is the stored one', async () => {
    const { release, recipient, request } = await setting()
    const ahead = wrapAhead(dataKey, request)
    const reply = await release(ahead)
    expect(reply.status).toBe('OK')
    const wrapped = (reply.body as { wrapped: Uint8Array }).wrapped
    expect(wrapped).toBe(await ahead.wrapped)
    expect(Buffer.compare(await unwrapDataKey(wrapped, recipient.privateKey, { fileId: 'lfn-1', version: 1 }), dataKey)).toBe(0)
  })

  it('wraps the stored key afresh when the key ahead is another (a build undone meanwhile) or its wrap failed', async () => {
    const { release, recipient, request } = await setting()
    const stale = wrapAhead(generateDataKey(), request)
    for (const ahead of [stale, { dataKey, wrapped: Promise.resolve(undefined) }]) {
      const reply = await release(ahead)
      expect(reply.status).toBe('OK')
      const wrapped = (reply.body as { wrapped: Uint8Array }).wrapped
      expect(wrapped).not.toBe(await stale.wrapped)
      expect(Buffer.compare(await unwrapDataKey(wrapped, recipient.privateKey, { fileId: 'lfn-1', version: 1 }), dataKey)).toBe(0)
    }
  })

  it('still refuses (and audits) a requester without the right, wrap ahead or not', async () => {
    const { release, request, decisions } = await setting()
    const reply = await release(wrapAhead(dataKey, request), grant('MR'))
    expect(reply.status).toBe('DENIED')
    expect(reply.body).toBeUndefined()
    expect(decisions.map(d => d.allow)).toEqual([false])
  })
})
