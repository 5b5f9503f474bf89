import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { buildManifest, encodeSignedManifest, generateDataKey, libp2pSigner, sealPayload, signManifest } from '../../src/privacy/payload/index.js'
import { Liveness, openTicket, parseReplicateRequest, plan, rankByRtt, replicaResource, ReplicaStore, type ReplicaEntry, signTicket, ticketAuthorizer } from '../../src/replicas/index.js'
import { tempDir } from '../helpers/tmp.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

async function sealed (lfn: string, version: number) {
  const key = await generateKeyPair('Ed25519')
  const master = peerIdFromPrivateKey(key).toString()
  const s = await sealPayload(new Uint8Array(10_000).fill(version), generateDataKey(), { fileId: lfn, version, chunkSize: 4096 })
  const manifest = buildManifest({ layout: s.layout, chunks: s.refs, deidProfile: 'ps3.15-basic', master })
  return { key, master, chunks: s.chunks, manifest, wire: encodeSignedManifest(await signManifest(manifest, libp2pSigner(key))) }
}

async function openStore () {
  const tmp = await tempDir('dm2-replica-store-')
  let db = new Level<string, Uint8Array>(join(tmp.path, 'db'), { valueEncoding: 'view' })
  const sub = (): ReturnType<typeof db.sublevel<string, Uint8Array>> => db.sublevel<string, Uint8Array>('replicas', { valueEncoding: 'view' })
  cleanups.push(async () => { await db.close(); await tmp.remove() })
  return {
    dir: join(tmp.path, 'replicas'),
    store: await ReplicaStore.open(join(tmp.path, 'replicas'), sub()),
    reopen: async () => {
      await db.close()
      db = new Level<string, Uint8Array>(join(tmp.path, 'db'), { valueEncoding: 'view' })
      return await ReplicaStore.open(join(tmp.path, 'replicas'), sub())
    }
  }
}

describe('ReplicaStore', () => {
  it('refuses a commit with a missing chunk, resumes from staging, survives a reopen, serves chunks', async () => {
    const { store, reopen, dir } = await openStore()
    const p = await sealed('lfn-s', 1)
    const sink = await store.sink(p.manifest.merkleRoot)
    for (const ch of p.chunks.slice(0, 2)) await sink.put(ch.index, [ch.bytes])
    await expect(store.commit(p.manifest, p.wire)).rejects.toMatchObject({ name: 'ReplicaStoreError' })
    expect(await store.has(p.manifest.merkleRoot)).toBe(false)

    // A restart keeps the staged chunks: only the rest is needed.
    const again = await reopen()
    const sink2 = await again.sink(p.manifest.merkleRoot)
    expect(await sink2.has(0)).toBe(true)
    expect(await sink2.has(2)).toBe(false)
    for (const ch of p.chunks.slice(2)) await sink2.put(ch.index, [ch.bytes])
    await again.commit(p.manifest, p.wire)
    // An orphan folder (a crash between rename and index) is removed on open.
    await writeFile(join(dir, 'orphan'), 'x')
    const third = await reopen()
    const entry = third.entryByLfn('lfn-s')
    expect(entry).toMatchObject({ lfn: 'lfn-s', version: 1, master: p.master })
    expect(replicaResource(entry as ReplicaEntry)).toEqual({ owner: p.key.publicKey.raw, custodian: p.key.publicKey.raw, contentId: Buffer.from(p.manifest.merkleRoot).toString('hex'), lfn: 'lfn-s' })
    expect(await third.read(p.manifest.merkleRoot, 1)).toEqual(p.chunks[1]?.bytes)
    expect(await third.read(p.manifest.merkleRoot, 99)).toBeUndefined()
    expect(await third.read(new Uint8Array(32), 0)).toBeUndefined()
    expect(await readdir(dir)).not.toContain('orphan')
  })

  it('never goes back to an older version', async () => {
    const { store } = await openStore()
    const v2 = await sealed('lfn-o', 2)
    const sink = await store.sink(v2.manifest.merkleRoot)
    for (const ch of v2.chunks) await sink.put(ch.index, [ch.bytes])
    await store.commit(v2.manifest, v2.wire)
    const v1 = await sealed('lfn-o', 1)
    await expect(store.commit(v1.manifest, v1.wire)).rejects.toMatchObject({ name: 'ReplicaStoreError' })
    expect(store.entryByLfn('lfn-o')?.version).toBe(2)
  })
})

describe('replication tickets', () => {
  it('open only when signed by the named master, unexpired and untampered', async () => {
    const key = await generateKeyPair('Ed25519')
    const master = peerIdFromPrivateKey(key).toString()
    const holder = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const cid = new Uint8Array(32).fill(7)
    const t = await signTicket(key, { contentId: cid, holder, master, now: 1000, validityMs: 1000 })
    expect(await openTicket(t, 1500)).toMatchObject({ holder, master, expiresAt: 2000 })
    await expect(openTicket(t, 2001)).rejects.toMatchObject({ name: 'TicketError' })
    const bad = new Uint8Array(t)
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1
    await expect(openTicket(bad, 1500)).rejects.toMatchObject({ name: 'TicketError' })
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async junk => {
      await expect(openTicket(new Uint8Array([...new TextEncoder().encode('DM2RT1'), ...junk]))).rejects.toMatchObject({ name: 'TicketError' })
    }), { numRuns: 50 })

    const now = (): number => 1500
    const check = ticketAuthorizer({ isStorage: p => p === holder, masterOf: async () => master, now })
    expect(await check({ auth: new Uint8Array([0xa1]), contentId: cid, remotePeer: holder })).toBeUndefined()
    expect(await check({ auth: t, contentId: cid, remotePeer: holder })).toEqual({ allow: true })
    expect(await check({ auth: t, contentId: cid, remotePeer: master })).toEqual({ allow: false, reason: 'NOT_HOLDER' })
    expect(await check({ auth: t, contentId: new Uint8Array(32), remotePeer: holder })).toEqual({ allow: false, reason: 'RESOURCE_MISMATCH' })
    const other = ticketAuthorizer({ isStorage: () => true, masterOf: async () => holder, now })
    expect(await other({ auth: t, contentId: cid, remotePeer: holder })).toEqual({ allow: false, reason: 'NOT_MASTER' })
  })
})

describe('placement', () => {
  it('never places on the master or twice on a site, counts only live storage holders', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 5 }), fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 }),
      fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'd', 'x'), { maxLength: 5 }), fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 }),
      (factor, storage, holders, dead) => {
        const p = plan({ factor, self: 'a', storageSites: storage, holders, alive: s => !dead.includes(s) })
        expect(p.candidates).not.toContain('a')
        expect(p.live).not.toContain('a')
        for (const c of p.candidates) {
          expect(holders).not.toContain(c)
          expect(storage).toContain(c)
        }
        for (const l of p.live) expect(storage.includes(l) && !dead.includes(l)).toBe(true)
        expect(p.needed).toBe(Math.max(0, factor - p.live.length))
      }), { numRuns: 200 })
  })

  it('ranks by RTT with unmeasured peers last; liveness has a grace period', () => {
    const rtt: Record<string, number> = { a: 30, b: 5 }
    expect(rankByRtt(['c', 'a', 'b'], p => rtt[p])).toEqual(['b', 'a', 'c'])
    let now = 0
    const l = new Liveness(() => now)
    l.down('x')
    now = 100
    expect(l.alive('x', 200)).toBe(true)
    now = 300
    expect(l.alive('x', 200)).toBe(false)
    l.up('x')
    expect(l.alive('x', 200)).toBe(true)
  })
})

describe('replicate request parsing', () => {
  it('rejects unexpected fields and bad values with a ProtocolError', () => {
    const ok = { lfn: 'x', version: 1, manifest: new Uint8Array(1), ticket: new Uint8Array(1), sources: [] }
    expect(parseReplicateRequest(ok)).toMatchObject({ lfn: 'x', version: 1 })
    for (const bad of [{ ...ok, extra: 1 }, { ...ok, lfn: '' }, { ...ok, version: -1 }, { ...ok, manifest: 'm' }, { ...ok, sources: new Array(17).fill('p') }]) {
      expect(() => parseReplicateRequest(bad)).toThrow(expect.objectContaining({ name: 'ProtocolError' }))
    }
  })
})
