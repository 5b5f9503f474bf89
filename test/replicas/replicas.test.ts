import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentIdToCid } from '../../src/privacy/payload/index.js'
import { Command } from 'commander'
import { registerReplicas } from '../../src/cli/replicas.js'
import { replicaControlHandlers, signTicket, sweepReplicas, type LocateResult } from '../../src/replicas/index.js'
import { NotLocatedError } from '../../src/dht/errors.js'
import { tempDir } from '../helpers/tmp.js'
import { memorySink } from '../protocols/chunk-fixtures.js'
import { connectAll, managerFor, master, newFederation, startSite, type Site } from './fixtures.js'
import { defaultLogger } from '@libp2p/logger'

const log = defaultLogger().forComponent('test:replicas')

describe('replica manager on real TCP nodes', () => {
  const fed = newFederation()
  let tmp: { path: string, remove: () => Promise<void> }
  let a: Site, b: Site, c: Site, d: Site, e: Site, f: Site
  let sites: Site[]

  beforeAll(async () => {
    tmp = await tempDir('dm2-replicas-')
    a = await startSite(fed, 'a', tmp.path, { storage: true })
    b = await startSite(fed, 'b', tmp.path, { storage: true })
    c = await startSite(fed, 'c', tmp.path, { storage: true })
    d = await startSite(fed, 'd', tmp.path, { storage: true })
    e = await startSite(fed, 'e', tmp.path, { storage: true })
    f = await startSite(fed, 'f', tmp.path, { reader: true })
    sites = [a, b, c, d, e, f]
    await connectAll(sites)
  }, 30_000)

  afterAll(async () => {
    await Promise.all(sites.map(async s => { await s.stop().catch(() => {}) }))
    await tmp.remove()
  })

  const holdersOf = (cid: Uint8Array): string[] => [...(fed.providers.get(contentIdToCid(cid).toString()) ?? [])]

  it('places the factor on distinct storage sites (never the master) and readers fetch from several at once', async () => {
    const m = await master(fed, a, 'lfn-1', 1)
    const manager = managerFor(fed, a, { factor: 2 })
    const [report] = await manager.reconcile()
    expect(report?.placed).toHaveLength(2)
    expect(new Set(report?.placed).size).toBe(2)
    expect(report?.placed).not.toContain(a.id)
    const holders = holdersOf(m.manifest.merkleRoot)
    expect(holders.sort()).toEqual([...(report?.placed ?? [])].sort())
    // Ciphertext only on disk: the chunk files are the sealed chunks, and a manifest.
    const holder = sites.find(s => s.id === holders[0]) as Site
    const files = await readdir(join(tmp.path, holder.name, 'replicas', Buffer.from(m.manifest.merkleRoot).toString('hex')))
    expect(files).toContain('manifest.cbor')
    expect(files.filter(n => /^\d+$/.test(n))).toHaveLength(m.chunks.length)
    expect(await holder.store.signedManifest(m.manifest.merkleRoot)).toEqual(m.version.manifest)
    // A second pass finds the factor already held.
    const [again] = await manager.reconcile()
    expect(again?.placed).toEqual([])
    expect(again?.live).toHaveLength(2)

    // F reads from the two replicas only (the master excluded): both serve, the bytes are identical.
    const sources = await managerFor(fed, f).rankSources(holders.map(h => peerIdFromString(h)))
    const sink = memorySink()
    const result = await f.node.services.chunks.fetch({
      contentId: m.manifest.merkleRoot,
      chunks: m.manifest.chunks.map((ch, index) => ({ index, id: ch.id })),
      sources,
      sink,
      auth: async () => new Uint8Array([1]),
      initialBatch: 2
    })
    expect(result.fetched).toBe(m.chunks.length)
    expect(result.sources.filter(s => s.chunks > 0)).toHaveLength(2)
    for (const ch of m.chunks) expect(Buffer.compare(sink.chunks.get(ch.index) as Uint8Array, ch.bytes)).toBe(0)
  }, 30_000)

  it('answers `replicas.locate` and `replicas.replicate` on the control channel, and the CLI registers both commands', async () => {
    const v = a.mastered.get('lfn-1')?.version
    if (v === undefined) throw new Error('no v1')
    const handlers = replicaControlHandlers({
      manager: managerFor(fed, f),
      resolve: async () => ({ master: a.id, version: 1, contentId: v.contentId }),
      findHolders: async cid => [a.id, ...holdersOf(cid)].map(p => peerIdFromString(p))
    })
    const ctx = { signal: AbortSignal.timeout(10_000), progress: () => {} }
    const located = await handlers['replicas.locate']?.({ lfn: 'lfn-1' }, ctx) as LocateResult
    expect(located).toMatchObject({ lfn: 'lfn-1', master: a.id, version: 1 })
    expect(located.holders).toHaveLength(3)
    expect(located.holders.filter(h => h.master).map(h => h.peer)).toEqual([a.id])
    expect(located.holders.every(h => typeof h.rttMs === 'number')).toBe(true)
    await expect(handlers['replicas.locate']?.({ lfn: '' }, ctx)).rejects.toMatchObject({ name: 'ReplicaParamsError' })
    // F masters nothing: it cannot place replicas.
    await expect(handlers['replicas.replicate']?.({ lfn: 'lfn-1', to: b.id }, ctx)).rejects.toMatchObject({ name: 'NotMasteredError' })
    // A refuses a target that is not a storage site.
    const atA = replicaControlHandlers({ manager: managerFor(fed, a), resolve: async () => ({ master: a.id, version: 1, contentId: v.contentId }), findHolders: async () => [] })
    await expect(atA['replicas.replicate']?.({ lfn: 'lfn-1', to: f.id }, ctx)).rejects.toMatchObject({ name: 'NotEligibleError' })

    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} })
    registerReplicas(program)
    expect(program.commands.map(c => c.name()).sort()).toEqual(['locate', 'replicate'])
    expect(() => program.parse(['replicate', 'lfn-1'], { from: 'user' })).toThrow(/--to/)
  }, 20_000)

  it('refuses a replicate request from a site that is not the manifest\'s master', async () => {
    const m = await master(fed, a, 'lfn-2', 1, 128 * 1024)
    // B (a member) forwards A's manifest to C with a ticket it signed itself.
    const ticket = await signTicket(b.key, { contentId: m.manifest.merkleRoot, holder: c.id, master: b.id })
    await expect(b.node.services.replicate.request(c.peerId, { lfn: 'lfn-2', version: 1, manifest: m.version.manifest, ticket, sources: [] }))
      .rejects.toMatchObject({ name: 'DeniedError', reason: 'NOT_MASTER' })
    // A's manifest with a ticket that B forged in A's name: the signature does not verify.
    const forged = await signTicket(b.key, { contentId: m.manifest.merkleRoot, holder: c.id, master: a.id })
    await expect(a.node.services.replicate.request(c.peerId, { lfn: 'lfn-2', version: 1, manifest: m.version.manifest, ticket: forged, sources: [] }))
      .rejects.toMatchObject({ name: 'DeniedError', reason: 'BAD_TICKET' })
    // A ticket does not let a storage site read chunks it was not given a ticket for (holder mismatch).
    const forC = await signTicket(a.key, { contentId: m.manifest.merkleRoot, holder: c.id, master: a.id })
    const sink = memorySink()
    const r = await d.node.services.chunks.fetch({ contentId: m.manifest.merkleRoot, chunks: m.manifest.chunks.map((ch, index) => ({ index, id: ch.id })), sources: [a.peerId], sink, auth: async () => forC }).catch(err => err as Error)
    expect((r as Error).name).toBe('MissingChunksError')
    expect(sink.chunks.size).toBe(0)
    expect(c.store.entryByLfn('lfn-2')).toBeUndefined()
    a.mastered.delete('lfn-2')
  }, 20_000)

  it('a new master version invalidates the old replicas', async () => {
    const v1 = a.mastered.get('lfn-1')?.version
    if (v1 === undefined) throw new Error('no v1')
    const oldHolders = holdersOf(v1.contentId)
    // A third site also holds v1 (placed by hand, as `dm2 replicate --to`).
    const manager = managerFor(fed, a, { factor: 2 })
    const extra = [c, d, e, b].find(s => !oldHolders.includes(s.id)) as Site
    await manager.replicateTo('lfn-1', extra.id)
    expect(extra.store.entryByLfn('lfn-1')?.version).toBe(1)

    const v2 = await master(fed, a, 'lfn-1', 2, 256 * 1024)
    const [report] = await manager.reconcile()
    expect(report?.version).toBe(2)
    expect(report?.placed).toHaveLength(2)
    // Sites that took v2 dropped v1 on commit; the others drop it on their sweep (the record says v2).
    const resolve = async (lfn: string): Promise<{ master: string, version: number, contentId: Uint8Array }> => {
      if (lfn !== 'lfn-1') throw new NotLocatedError(lfn)
      return { master: a.id, version: 2, contentId: v2.manifest.merkleRoot }
    }
    for (const s of [b, c, d, e]) await sweepReplicas({ store: s.store, resolve, log })
    for (const s of [b, c, d, e]) {
      expect(await s.store.has(v1.contentId)).toBe(false)
      const dirs = await readdir(join(tmp.path, s.name, 'replicas'))
      expect(dirs).not.toContain(Buffer.from(v1.contentId).toString('hex'))
    }
    const v2Holders = [b, c, d, e].filter(s => s.store.entryByLfn('lfn-1')?.version === 2)
    expect(v2Holders.map(s => s.id).sort()).toEqual([...(report?.placed ?? [])].sort())
    // The master's own copy is untouched.
    expect(a.mastered.get('lfn-1')?.version.version).toBe(2)
    // An expired record (no valid record left) drops the replica too.
    const gone = await sweepReplicas({ store: v2Holders[0]?.store ?? b.store, resolve: async l => { throw new NotLocatedError(l) }, log })
    expect(gone.dropped).toEqual([{ lfn: 'lfn-1', version: 2, why: 'expired' }])
  }, 30_000)

  it('restores the factor on another site after a holder stops', async () => {
    const m = await master(fed, a, 'lfn-3', 1, 512 * 1024)
    for (const k of [...a.mastered.keys()]) if (k !== 'lfn-3') a.mastered.delete(k)
    const manager = managerFor(fed, a, { factor: 2, graceMs: 300, reconcileMs: 200 })
    a.node.addEventListener('peer:connect', ev => { manager.peerConnected(ev.detail) })
    a.node.addEventListener('peer:disconnect', ev => { manager.peerDisconnected(ev.detail) })
    const [first] = await manager.reconcile()
    expect(first?.placed).toHaveLength(2)
    const victim = sites.find(s => s.id === first?.placed[0]) as Site
    const started = Date.now()
    manager.start()
    try {
      await victim.stop()
      const deadline = Date.now() + 15_000
      let live: Site[] = []
      while (Date.now() < deadline) {
        live = [b, c, d, e].filter(s => s !== victim && s.store.entryByLfn('lfn-3') !== undefined)
        if (live.length >= 2) break
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      expect(live).toHaveLength(2)
      expect(live.map(s => s.id)).not.toContain(victim.id)
      expect(Date.now() - started).toBeLessThan(15_000)
      // The provider records name the new holder.
      for (const s of live) expect(holdersOf(m.manifest.merkleRoot)).toContain(s.id)
    } finally {
      await manager.stop()
    }
  }, 30_000)
})
