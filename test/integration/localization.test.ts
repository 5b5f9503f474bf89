/**
 * Localization across six real nodes: an LFN published at hospital A is
 * located from hospital F; an older record re-put by a malicious member is
 * refused everywhere; outsiders cannot publish; misses say so.
 */
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MessageType } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { lfnKey, signLfnRecord, type LfnRecord } from '../../src/dht/index.js'
import { waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { tempDir } from '../helpers/tmp.js'

async function cidOf (label: string): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(label)))
}

const digest = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest())

describe('LFN localization on six hospitals', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation
  let a: HospitalNode
  let b: HospitalNode
  let f: HospitalNode

  beforeAll(async () => {
    dir = await tempDir()
    fed = await startLocalFederation({ root: dir.path, hospitals: 6 })
    ;[a, b, , , , f] = fed.nodes as [HospitalNode, HospitalNode, HospitalNode, HospitalNode, HospitalNode, HospitalNode]
    expect(await waitForRoutingTables(fed.nodes)).toBe(true)
  })
  afterAll(async () => {
    await fed?.stop()
    await dir?.remove()
  })

  it('an LFN registered at A is located from F, with its holders', async () => {
    const cid = await cidOf('v1')
    await a.localization.publishLfn({ lfn: 'lfn-one', version: 1, contentId: digest('c1'), manifestHash: digest('m1'), meta: { modality: 'MR' }, cid })
    const record = await f.localization.resolveLfn('lfn-one')
    expect(record).toMatchObject({ lfn: 'lfn-one', master: a.peerId.toString(), version: 1, meta: { modality: 'MR' } })
    const holders = await f.localization.findHolders(cid)
    expect(holders.map(p => p.toString())).toContain(a.peerId.toString())
  })

  it('an older record put by a malicious member is rejected everywhere', async () => {
    const input = { lfn: 'lfn-two', contentId: digest('c'), manifestHash: digest('m'), meta: {} }
    // The malicious member kept a copy of version 1 as the master signed it.
    const master = a.localization
    await master.publishLfn({ ...input, version: 1, cid: await cidOf('two-1') })
    let stale: Uint8Array | undefined
    for await (const e of b.libp2p.services.dht.get(lfnKey('lfn-two'))) if (e.name === 'VALUE') stale = e.value
    expect(stale).toBeDefined()
    await master.publishLfn({ ...input, version: 2, contentId: digest('c2'), cid: await cidOf('two-2') })
    // Everyone now holds version 2; B replays version 1 to all of them.
    let accepted = 0
    let refused = 0
    for await (const e of b.libp2p.services.dht.put(lfnKey('lfn-two'), stale as Uint8Array)) {
      if (e.name === 'PEER_RESPONSE' && e.messageType === MessageType.PUT_VALUE) accepted++
      if (e.name === 'QUERY_ERROR') refused++
    }
    expect(accepted).toBe(0)
    expect(refused).toBeGreaterThan(0)
    for (const node of fed.nodes) {
      if (node === b) continue
      expect((await node.localization.resolveLfn('lfn-two', { fresh: true })).version).toBe(2)
    }
  })

  it('a record signed by a non-member is refused by every member', async () => {
    const key = await generateKeyPair('Ed25519')
    const record: LfnRecord = {
      lfn: 'lfn-evil',
      master: peerIdFromPrivateKey(key).toString(),
      version: 1,
      contentId: digest('x'),
      manifestHash: digest('y'),
      meta: {},
      issuedAt: Date.now(),
      expiresAt: Date.now() + 60_000
    }
    const { bytes } = await signLfnRecord(record, key)
    let accepted = 0
    for await (const e of b.libp2p.services.dht.put(lfnKey('lfn-evil'), bytes)) if (e.name === 'PEER_RESPONSE' && e.messageType === MessageType.PUT_VALUE) accepted++
    expect(accepted).toBe(0)
    await expect(f.localization.resolveLfn('lfn-evil')).rejects.toMatchObject({ name: 'NotLocatedError' })
  })

  it('"first" takes the first valid record (the master), without caching a possibly older version', async () => {
    const input = { lfn: 'lfn-first', contentId: digest('c'), manifestHash: digest('m'), meta: {} }
    await a.localization.publishLfn({ ...input, version: 1, cid: await cidOf('first-1') })
    const quick = await f.localization.resolveLfn('lfn-first', { first: true })
    expect(quick).toMatchObject({ lfn: 'lfn-first', master: a.peerId.toString() })
    await a.localization.publishLfn({ ...input, version: 2, contentId: digest('c2'), cid: await cidOf('first-2') })
    // F is one of the k closest: the new version was put to it, and "first" answers from it without a query.
    const get = vi.spyOn(f.libp2p.services.dht, 'get')
    try {
      expect(await f.localization.resolveLfn('lfn-first', { first: true })).toMatchObject({ version: 2, master: a.peerId.toString() })
      expect(get).not.toHaveBeenCalled()
    } finally {
      get.mockRestore()
    }
    expect((await f.localization.resolveLfn('lfn-first')).version).toBe(2)
    await expect(f.localization.resolveLfn('lfn-nowhere-either', { first: true })).rejects.toMatchObject({ name: 'NotLocatedError' })
  })

  it('a lookup that finds nothing says so', async () => {
    await expect(f.localization.resolveLfn('lfn-nowhere')).rejects.toMatchObject({ name: 'NotLocatedError' })
    await expect(f.localization.findHolders(await cidOf('nothing'))).rejects.toMatchObject({ name: 'NotLocatedError' })
  })

  it('site records say what each site offers', async () => {
    await a.localization.publishSite({ name: 'hospital-a', services: ['metadata', 'keys'], version: 1 })
    expect(await f.localization.resolveSite(a.peerId)).toMatchObject({ name: 'hospital-a', services: ['metadata', 'keys'] })
  })
})
