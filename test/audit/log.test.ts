import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, type AuditDecision, type AuditSigner, type AuditStore } from '../../src/audit/index.js'
import { encodeCbor, decodeCbor } from '../../src/codec/cbor.js'
import { tempDir } from '../helpers/tmp.js'

function signerOf (key: PrivateKey): AuditSigner {
  return { sign: async m => await key.sign(m), verify: async (m, s) => await key.publicKey.verify(m, s) }
}

const decision = (i: number): AuditDecision => ({
  decision: i % 3 === 0 ? 'deny' : 'allow',
  reason: i % 3 === 0 ? 'EXPIRED' : 'OK',
  command: 'chunks/get',
  resource: `lfn-${i}`,
  requester: 'key-1',
  chain: ['cert-root', `cert-${i}`],
  remotePeer: '12D3KooWpeer'
})

describe('audit log', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let db: Level<string, Uint8Array>
  let key: PrivateKey
  let log: AuditLog
  const store = () => db.sublevel<string, Uint8Array>('audit', { valueEncoding: 'view' })

  beforeEach(async () => {
    dir = await tempDir()
    db = new Level(dir.path, { valueEncoding: 'view' })
    key = await generateKeyPair('Ed25519')
    log = new AuditLog({ store: store(), signer: signerOf(key) })
  })
  afterEach(async () => {
    await db.close()
    await dir.remove()
  })

  it('appends concurrently into one unbroken chain that verifies, and survives a reopen', async () => {
    await Promise.all(Array.from({ length: 50 }, async (_, i) => await log.append(decision(i))))
    const report = await log.verify()
    expect(report).toMatchObject({ ok: true, entries: 50, problems: [], head: { seq: 50 } })
    const seqs: number[] = []
    for await (const e of log.entries()) seqs.push(e.entry.seq)
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    await db.close()
    db = new Level(dir.path, { valueEncoding: 'view' })
    const reopened = new AuditLog({ store: store(), signer: signerOf(key) })
    await reopened.append(decision(99))
    expect(await reopened.verify()).toMatchObject({ ok: true, entries: 51 })
  })

  it('detects an altered entry', async () => {
    for (let i = 0; i < 10; i++) await log.append(decision(i))
    const k = 'e:0000000000000004'
    const stored = decodeCbor((await store().get(k)) as Uint8Array, 1 << 16) as { entry: Record<string, unknown>, hash: string }
    stored.entry.decision = 'allow'
    await store().put(k, encodeCbor(stored))
    const report = await log.verify()
    expect(report.ok).toBe(false)
    expect(report.problems).toContainEqual({ kind: 'altered', seq: 4 })
  })

  it('detects an entry re-hashed after being altered (the next link breaks)', async () => {
    for (let i = 0; i < 10; i++) await log.append(decision(i))
    const { hashEntry } = await import('../../src/audit/entry.js')
    const k = 'e:0000000000000004'
    const stored = decodeCbor((await store().get(k)) as Uint8Array, 1 << 16) as { entry: Parameters<typeof hashEntry>[0], hash: string }
    stored.entry.reason = 'OK'
    stored.hash = hashEntry(stored.entry)
    await store().put(k, encodeCbor(stored))
    const report = await log.verify()
    expect(report.problems).toContainEqual({ kind: 'broken-link', seq: 5 })
  })

  it('detects a removed entry, in the middle or at the end', async () => {
    for (let i = 0; i < 10; i++) await log.append(decision(i))
    await store().del('e:0000000000000006')
    expect((await log.verify()).problems).toContainEqual({ kind: 'missing', seq: 6 })
    await store().del('e:0000000000000010')
    expect((await log.verify()).problems).toContainEqual({ kind: 'missing', seq: 10 })
  })

  it('detects a forged head', async () => {
    for (let i = 0; i < 5; i++) await log.append(decision(i))
    const head = decodeCbor((await store().get('head')) as Uint8Array, 4096) as { seq: number, hash: string, sig: Uint8Array }
    await store().put('head', encodeCbor({ ...head, seq: 3 }))
    const report = await log.verify()
    expect(report.problems).toContainEqual({ kind: 'bad-head-signature' })
  })

  it('refuses malformed decisions and writes nothing', async () => {
    await expect(log.append({ ...decision(1), decision: 'maybe' as 'allow' })).rejects.toMatchObject({ name: 'AuditEntryError' })
    await expect(log.append({ ...decision(1), reason: 'x'.repeat(1000) })).rejects.toMatchObject({ name: 'AuditEntryError' })
    expect((await log.verify()).entries).toBe(0)
  })

  it('writes concurrent appends together (group commit), in append order, chained and verifiable', async () => {
    const inner: AuditStore = store()
    let batches = 0
    const counting = {
      get: async (k: string) => await inner.get(k),
      batch: async (ops: Array<{ type: 'put', key: string, value: Uint8Array }>, options?: { sync?: boolean }) => {
        batches++
        expect(options?.sync).toBe(true)
        await inner.batch(ops, options)
      },
      iterator: (o: { gt?: string, lt?: string }) => inner.iterator(o)
    }
    const grouped = new AuditLog({ store: counting, signer: signerOf(key) })
    const stored = await Promise.all(Array.from({ length: 40 }, async (_, i) => await grouped.append(decision(i))))
    expect(stored.map(s => s.entry.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(stored.map(s => s.entry.resource)).toEqual(Array.from({ length: 40 }, (_, i) => `lfn-${i}`))
    expect(batches).toBeLessThan(40)
    expect(batches).toBeGreaterThanOrEqual(1)
    const report = await grouped.verify()
    expect(report).toMatchObject({ ok: true, entries: 40, head: { seq: 40, hash: stored[39]?.hash } })
    // A later single append continues the chain.
    const next = await grouped.append(decision(99))
    expect(next.entry).toMatchObject({ seq: 41, prev: stored[39]?.hash })
  })

  it('fails every append of a batch whose write fails, and keeps working afterwards', async () => {
    const inner: AuditStore = store()
    let fail = true
    const flaky = {
      get: async (k: string) => await inner.get(k),
      batch: async (ops: Array<{ type: 'put', key: string, value: Uint8Array }>, options?: { sync?: boolean }) => {
        if (fail) throw new Error('disk full')
        await inner.batch(ops, options)
      },
      iterator: (o: { gt?: string, lt?: string }) => inner.iterator(o)
    }
    const log2 = new AuditLog({ store: flaky, signer: signerOf(key) })
    const results = await Promise.allSettled([log2.append(decision(1)), log2.append(decision(2))])
    expect(results.map(r => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    expect((await log2.append(decision(3))).entry.seq).toBe(1)
    expect((await log2.verify()).ok).toBe(true)
  })
})
