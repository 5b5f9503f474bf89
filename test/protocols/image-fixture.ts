/**
 * What the image protocol tests share: a hospital that grants a doctor read
 * access to its CTs, the series it holds (`lfn-1`), image nodes over real TCP
 * on 127.0.0.1 (stopped by `stopImageNodes`), and the doctor's authorization
 * for one request.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { streamMuxer } from '../../src/node/libp2p.js'
import { imageService, type ImageRequester, type ImageServerInit } from '../../src/protocols/image/index.js'
import { createInvocation, encodeAuthorization, generateSigner, issueCertificate, type ResourceDescriptor } from '../../src/sac/index.js'

export type ImageNode = Libp2p<{ image: ImageRequester }>

export const hospital = generateSigner()
export const doctor = generateSigner()
export const resource: ResourceDescriptor = { owner: hospital.publicKey, custodian: hospital.publicKey, contentId: 'cid-1', lfn: 'lfn-1', modality: 'CT', bodyPart: 'HEART' }
const S = Math.floor(Date.now() / 1000)
export const cert = issueCertificate({ audience: doctor.publicKey, resource: { selector: { modality: ['CT'] } }, abilities: ['image/read'], notBefore: S - 60, expiry: S + 3600, purpose: 'TREAT' }, hospital)

const nodes: ImageNode[] = []

/** Stops every node started so far (for afterEach). */
export async function stopImageNodes (): Promise<void> {
  await Promise.all(nodes.splice(0).map(async n => { await n.stop() }))
}

/** A node serving `init`, listening on a free port. */
export async function imageServer (init: ImageServerInit): Promise<ImageNode> {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: { image: imageService(init) }
  })
  nodes.push(n)
  return n
}

/** A requesting node: it asks, and refuses to serve. */
export async function imageClient (): Promise<ImageNode> {
  const refuse = async (): Promise<never> => { throw new Error('not a server') }
  const n = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [streamMuxer()], services: { image: imageService({ access: { check: refuse }, resourceOf: async () => undefined, prepare: refuse }) } })
  nodes.push(n)
  return n
}

/** The doctor's authorization for one request from `c` to `s`. */
export function auth (s: ImageNode, c: ImageNode, command: string, args: Uint8Array): Uint8Array {
  const invocation = createInvocation({ audience: s.peerId.toString(), origin: c.peerId.toString(), command, args, proof: cert.id }, doctor)
  return encodeAuthorization({ invocation: invocation.bytes, chain: [cert.bytes], memberships: [] })
}
