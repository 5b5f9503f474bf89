/**
 * The durable revocation set: who may revoke, what a notice must prove,
 * durability across a restart, and that a revoked certificate stops its
 * descendants through the access-control module.
 */
import fc from 'fast-check'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createRevocation, delegate, encodeCanonical, issueMembership, openRevocation, REVOCATION_RECORD, RevocationStore, signRecord
} from '../../src/sac/index.js'
import type { Certificate, Signer } from '../../src/sac/index.js'
import { tempDir } from '../helpers/tmp.js'
import { controller, DAY, keys, NOW, request, rootGrant, S } from './fixtures.js'

let dir: Awaited<ReturnType<typeof tempDir>>
let db: Level<string, Uint8Array>

async function openStore (clock = (): number => NOW): Promise<RevocationStore> {
  return await RevocationStore.open({ db: db.sublevel<string, Uint8Array>('revocations', { valueEncoding: 'view' }), clock })
}

beforeEach(async () => {
  dir = await tempDir()
  db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
  await db.open()
})
afterEach(async () => {
  await db.close()
  await dir.remove()
})

/** patient → doctor (depth 3) → resident (depth 1) → student (depth 0). */
function chain3 (): [Certificate, Certificate, Certificate] {
  const root = rootGrant()
  const child = delegate(root, { audience: keys.resident.publicKey, abilities: ['delegate', 'image/read'], depth: 1 }, keys.doctor)
  const grandchild = delegate(child, { audience: keys.student.publicKey, abilities: ['image/read'] }, keys.resident)
  return [root, child, grandchild]
}

/** A notice signed by anyone, with any proof: what an attacker can build. */
function forged (target: string, chain: Certificate[], signer: Signer, at = S): Uint8Array {
  const record = signRecord(REVOCATION_RECORD, { target: Buffer.from(target, 'hex'), revoker: signer.publicKey, at, reason: 'unspecified' }, signer)
  return encodeCanonical({ record: record.bytes, chain: chain.map(c => c.bytes), memberships: [] }, 32 * 1024)
}

function refusal (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect((err as Error).name).toBe('RevocationRefusedError')
    return (err as { reason: string }).reason
  }
  return 'ACCEPTED'
}

describe('revocation records', () => {
  it('any issuer in the chain may revoke; the holder and strangers may not', () => {
    const [root, child, grandchild] = chain3()
    expect(createRevocation({ chain: [root, child, grandchild] }, keys.patient, NOW).target).toBe(grandchild.id)
    expect(createRevocation({ chain: [root, child, grandchild] }, keys.doctor, NOW).target).toBe(grandchild.id)
    expect(createRevocation({ chain: [root, child, grandchild] }, keys.resident, NOW).revoker).toBe(Buffer.from(keys.resident.publicKey).toString('hex'))
    // The doctor issued the child, not the root: he cannot revoke the patient's grant.
    expect(refusal(() => createRevocation({ chain: [root], target: root.id }, keys.doctor, NOW))).toBe('NOT_ISSUER')
    // The student holds the grandchild but issued nothing.
    expect(refusal(() => createRevocation({ chain: [root, child, grandchild] }, keys.student, NOW))).toBe('NOT_ISSUER')
    expect(refusal(() => openRevocation(forged(child.id, [root, child], keys.mallory), { now: NOW }))).toBe('NOT_ISSUER')
  })

  it('the proof must contain the target and verify as a chain', () => {
    const [root, child] = chain3()
    const other = rootGrant()
    expect(refusal(() => openRevocation(forged(other.id, [root, child], keys.patient), { now: NOW }))).toBe('NOT_IN_PROOF')
    expect(refusal(() => openRevocation(forged(child.id, [child], keys.doctor), { now: NOW }))).toBe('BROKEN_CHAIN')
    expect(refusal(() => openRevocation(forged(child.id, [], keys.doctor), { now: NOW }))).toBe('NOT_IN_PROOF')
  })

  it('refuses a forged signature, a record signed by another key than its revoker, garbage and future dates', () => {
    const [root, child] = chain3()
    const good = createRevocation({ chain: [root, child] }, keys.doctor, NOW).notice
    const record = signRecord(REVOCATION_RECORD, { target: Buffer.from(child.id, 'hex'), revoker: keys.doctor.publicKey, at: S, reason: 'unspecified' }, keys.mallory)
    const wrongSigner = encodeCanonical({ record: record.bytes, chain: [root.bytes, child.bytes], memberships: [] }, 32 * 1024)
    expect(refusal(() => openRevocation(wrongSigner, { now: NOW }))).toBe('BAD_SIGNATURE')
    expect(refusal(() => openRevocation(new Uint8Array([1, 2, 3]), { now: NOW }))).toBe('MALFORMED')
    expect(refusal(() => openRevocation(new Uint8Array(40 * 1024), { now: NOW }))).toBe('MALFORMED')
    expect(refusal(() => openRevocation(forged(child.id, [root, child], keys.doctor, S + DAY), { now: NOW }))).toBe('NOT_YET_VALID')
    expect(refusal(() => openRevocation(good, { now: NOW }))).toBe('ACCEPTED')
  })

  it('any single-bit change of a notice is refused', () => {
    const [root, child] = chain3()
    const good = createRevocation({ chain: [root, child], reason: 'key-compromise' }, keys.doctor, NOW).notice
    fc.assert(fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 7 }), (index, bit) => {
      const bad = Uint8Array.from(good)
      bad[index] = (bad[index] as number) ^ (1 << bit)
      expect(refusal(() => openRevocation(bad, { now: NOW }))).not.toBe('ACCEPTED')
    }), { numRuns: 150 })
  })

  it('a group membership is revoked by its root only', () => {
    const m = issueMembership({ group: 'cardiologists', member: keys.nurse.publicKey, notBefore: S - 3600, expiry: S + 3600 }, keys.clinic)
    expect(createRevocation({ target: m.id, memberships: [m.bytes] }, keys.clinic, NOW).expiresAt).toBe((S + 3600) * 1000)
    expect(refusal(() => createRevocation({ target: m.id, memberships: [m.bytes] }, keys.nurse, NOW))).toBe('NOT_ISSUER')
  })
})

describe('revocation store', () => {
  it('adds once, answers from memory, lists, and survives a restart', async () => {
    const [root, child] = chain3()
    const store = await openStore()
    const { notice } = createRevocation({ chain: [root, child], reason: 'privilege-withdrawn' }, keys.doctor, NOW)
    expect(store.isRevoked(child.id)).toBe(false)
    expect(await store.add(notice)).toBe(true)
    expect(store.isRevoked(child.id)).toBe(true)
    expect(store.isRevoked(root.id)).toBe(false)
    // The patient revoking the same certificate adds nothing new.
    expect(await store.add(createRevocation({ chain: [root, child] }, keys.patient, NOW).notice)).toBe(false)
    expect(await store.add(notice)).toBe(false)
    const listed = await store.list()
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ target: child.id, reason: 'privilege-withdrawn', expiresAt: child.expiry * 1000 })
    expect(Buffer.compare(listed[0]?.notice ?? new Uint8Array(), notice)).toBe(0)

    await db.close()
    db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
    await db.open()
    const reopened = await openStore()
    expect(reopened.isRevoked(child.id)).toBe(true)
    expect(reopened.size).toBe(1)
  })

  it('a refused notice changes nothing; concurrent adds of one revocation count once', async () => {
    const [root, child] = chain3()
    const store = await openStore()
    await expect(store.add(forged(child.id, [root, child], keys.mallory))).rejects.toMatchObject({ name: 'RevocationRefusedError', reason: 'NOT_ISSUER' })
    expect(store.size).toBe(0)
    expect(await store.list()).toEqual([])
    const { notice } = createRevocation({ chain: [root, child] }, keys.doctor, NOW)
    const results = await Promise.all([store.add(notice), store.add(notice), store.add(notice)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await store.list()).toHaveLength(1)
    // Once revoked, a notice about the same id is not verified again: it could change nothing.
    expect(await store.add(forged(child.id, [root, child], keys.mallory))).toBe(false)
    expect((await store.list()).map(r => r.revoker)).toEqual([Buffer.from(keys.doctor.publicKey).toString('hex')])
  })

  it('ignores revocations of expired certificates and prunes entries once their target expires', async () => {
    let now = NOW
    const store = await openStore(() => now)
    const old = rootGrant({ notBefore: S - 10 * DAY, expiry: S - 2 * DAY })
    expect(await store.add(createRevocation({ chain: [old] }, keys.patient, NOW).notice)).toBe(false)
    expect(store.size).toBe(0)
    const short = rootGrant({ expiry: S + DAY })
    const long = rootGrant()
    expect(await store.add(createRevocation({ chain: [short] }, keys.patient, NOW).notice)).toBe(true)
    expect(await store.add(createRevocation({ chain: [long] }, keys.patient, NOW).notice)).toBe(true)
    expect(await store.prune()).toBe(0)
    now = NOW + 2 * DAY * 1000
    expect(await store.prune()).toBe(1)
    expect(store.isRevoked(short.id)).toBe(false)
    expect(store.isRevoked(long.id)).toBe(true)
    expect((await store.list()).map(r => r.target)).toEqual([long.id])
  })

  it('a certificate not valid yet can be revoked before it starts', async () => {
    const store = await openStore()
    const future = rootGrant({ notBefore: S + DAY, expiry: S + 9 * DAY })
    expect(await store.add(createRevocation({ chain: [future] }, keys.patient, NOW).notice)).toBe(true)
  })
})

describe('revocation through access control', () => {
  it('revoking a certificate stops it and every descendant, not its ancestors', async () => {
    const [root, child, grandchild] = chain3()
    const store = await openStore()
    const { ac, audited } = controller({ revocations: store })
    expect((await ac.check(request(keys.student, [root, child, grandchild]))).allow).toBe(true)
    expect((await ac.check(request(keys.resident, [root, child]))).allow).toBe(true)

    await store.add(createRevocation({ chain: [root, child] }, keys.doctor, NOW).notice)
    const viaGrandchild = await ac.check(request(keys.student, [root, child, grandchild]))
    expect(viaGrandchild.allow ? 'ALLOW' : [viaGrandchild.reason, viaGrandchild.link]).toEqual(['REVOKED', 1])
    const viaChild = await ac.check(request(keys.resident, [root, child]))
    expect(viaChild.allow ? 'ALLOW' : viaChild.reason).toBe('REVOKED')
    // The doctor's own grant is untouched.
    expect((await ac.check(request(keys.doctor, [root]))).allow).toBe(true)
    expect(audited.map(d => d.allow)).toEqual([true, true, false, false, true])
  })

  it('revoking a membership stops the group audience from using the grant', async () => {
    const store = await openStore()
    const root = rootGrant({ audience: { root: keys.clinic.publicKey, name: 'cardiologists' } })
    const m = issueMembership({ group: 'cardiologists', member: keys.nurse.publicKey, notBefore: S - 3600, expiry: S + 3600 }, keys.clinic)
    const { ac } = controller({ revocations: store })
    expect((await ac.check(request(keys.nurse, [root], { memberships: [m.bytes] }))).allow).toBe(true)
    await store.add(createRevocation({ target: m.id, memberships: [m.bytes] }, keys.clinic, NOW).notice)
    const d = await ac.check(request(keys.nurse, [root], { memberships: [m.bytes] }))
    expect(d.allow ? 'ALLOW' : d.reason).toBe('REVOKED')
  })
})
