import { afterEach, describe, expect, it } from 'vitest'
import { generateDataKey, generateRecipientKeyPair, unwrapDataKey } from '../../src/privacy/payload/index.js'
import { imageArguments, type ImageRequest } from '../../src/protocols/image/index.js'
import { keyArguments } from '../../src/protocols/keys/index.js'
import type { Decision } from '../../src/sac/index.js'
import { auth, imageClient as client, imageServer, resource, stopImageNodes, type ImageNode } from './image-fixture.js'
import { lateAccess } from './late-access.js'

afterEach(stopImageNodes)

const dataKey = generateDataKey()
const MANIFEST = new Uint8Array([0xa1, 0x61, 0x6d, 0x01])

interface Server { node: ImageNode, decisions: Decision[], prepared: string[] }

/** A master holding `lfn-1` at version 2 (sealed as file id `lfn-1`), with key release on the image answer unless `keys` is false. */
async function server (keys = true): Promise<Server> {
  const decisions: Decision[] = []
  const prepared: string[] = []
  const { access, bind } = lateAccess(decisions)
  const n = await imageServer({
    access,
    resourceOf: async lfn => lfn === 'lfn-1' ? resource : undefined,
    prepare: async (lfn) => { prepared.push(lfn); return { fileId: lfn, version: 2, manifest: MANIFEST } },
    ...(keys ? { keys: { access, keys: { get: async (lfn: string, version: number) => lfn === 'lfn-1' && version === 2 ? { dataKey, resource } : undefined } } } : {})
  })
  bind(n.peerId.toString())
  return { node: n, decisions, prepared }
}

/** An image request for lfn-1 with a key request for `version`, its invocation bound to `boundTo` (the recipient by default). */
function request (s: ImageNode, c: ImageNode, recipient: Uint8Array, opts: { version?: number, boundTo?: Uint8Array, fileId?: string } = {}): ImageRequest {
  const version = opts.version ?? 2
  const fileId = opts.fileId ?? 'lfn-1'
  return {
    lfn: 'lfn-1',
    auth: auth(s, c, 'image/prepare', imageArguments('lfn-1')),
    key: { lfn: fileId, version, recipient, auth: auth(s, c, 'keys/release', keyArguments(fileId, version, opts.boundTo ?? recipient)) }
  }
}

describe('image preparation with the key on the answer, over real TCP', () => {
  it('hands out the data key wrapped to the requester\'s key, audited as a key release', async () => {
    const s = await server()
    const c = await client()
    await c.dial(s.node.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    const answer = await c.services.image.prepare(s.node.peerId, request(s.node, c, recipient.publicKey))
    expect(answer.version).toBe(2)
    expect(Buffer.from(answer.manifest).equals(Buffer.from(MANIFEST))).toBe(true)
    expect(answer.wrapped).toBeInstanceOf(Uint8Array)
    const opened = await unwrapDataKey(answer.wrapped as Uint8Array, recipient.privateKey, { fileId: 'lfn-1', version: 2 })
    expect(Buffer.compare(opened, dataKey)).toBe(0)
    await expect(unwrapDataKey(answer.wrapped as Uint8Array, generateRecipientKeyPair().privateKey, { fileId: 'lfn-1', version: 2 })).rejects.toThrow()
    expect(s.decisions.map(d => [d.command, d.allow])).toEqual([['image/prepare', true], ['keys/release', true]])
  })

  it('no key, but the manifest, when the key request is for another version or file, refused, or not served here', async () => {
    const s = await server()
    const c = await client()
    await c.dial(s.node.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    // The DHT named an older version: the key request does not match what was prepared.
    const stale = await c.services.image.prepare(s.node.peerId, request(s.node, c, recipient.publicKey, { version: 1 }))
    expect(stale.wrapped).toBeUndefined()
    // A key for another file is not released on this answer.
    const other = await c.services.image.prepare(s.node.peerId, request(s.node, c, recipient.publicKey, { fileId: 'lfn-1#dicom' }))
    expect(other.wrapped).toBeUndefined()
    // An invocation bound to another recipient: the release is refused (and audited), the preparation stands.
    const refused = await c.services.image.prepare(s.node.peerId, request(s.node, c, recipient.publicKey, { boundTo: generateRecipientKeyPair().publicKey }))
    expect(refused.wrapped).toBeUndefined()
    expect(refused.version).toBe(2)
    expect(s.decisions.map(d => [d.command, d.allow])).toEqual([
      ['image/prepare', true], ['image/prepare', true], ['image/prepare', true], ['keys/release', false]
    ])
    // A master without key release on its image service answers the manifest alone.
    const bare = await server(false)
    await c.dial(bare.node.getMultiaddrs())
    const alone = await c.services.image.prepare(bare.node.peerId, request(bare.node, c, recipient.publicKey))
    expect(alone.wrapped).toBeUndefined()
    expect(bare.decisions.map(d => d.command)).toEqual(['image/prepare'])
  })

  it('a malformed key request or an unknown field is INVALID before any work', async () => {
    const s = await server()
    const c = await client()
    await c.dial(s.node.getMultiaddrs())
    const recipient = generateRecipientKeyPair()
    const good = request(s.node, c, recipient.publicKey)
    const short = { ...good, key: { ...(good.key as NonNullable<ImageRequest['key']>), recipient: recipient.publicKey.subarray(0, 31) } }
    await expect(c.services.image.prepare(s.node.peerId, short)).rejects.toMatchObject({ name: 'InvalidRequestError' })
    const extra = { ...good, key: { ...(good.key as NonNullable<ImageRequest['key']>), note: 'x' } } as unknown as ImageRequest
    await expect(c.services.image.prepare(s.node.peerId, extra)).rejects.toMatchObject({ name: 'InvalidRequestError' })
    expect(s.prepared).toEqual([])
    expect(s.decisions).toEqual([])
    // The node keeps serving.
    expect((await c.services.image.prepare(s.node.peerId, request(s.node, c, recipient.publicKey))).wrapped).toBeInstanceOf(Uint8Array)
    expect(s.prepared).toEqual(['lfn-1'])
  })
})
