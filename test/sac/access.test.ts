/**
 * The issue's attack list, each through the access-control function, each
 * denied with the right reason and handed to the audit sink; and the positive
 * cases next to them.
 */
import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  decodeEnvelope, delegate, encodeEnvelope, hashArguments, issueCertificate, issueMembership, MAX_CHAIN_LENGTH,
  SAC_RECORD, signedMessage, REASON_CODES
} from '../../src/sac/index.js'
import type { AccessRequest, Certificate, CertificateFields, Decision, SeededSigner } from '../../src/sac/index.js'
import { chestCt, controller, DAY, headMr, invoke, keys, NOW, request, rootGrant, S, SERVER } from './fixtures.js'

/** A child certificate written directly (no attenuation checks): what an attacker can sign. */
function rawChild (parent: Certificate, overrides: Partial<CertificateFields>, signer: SeededSigner): Certificate {
  return issueCertificate({
    audience: keys.resident.publicKey,
    subject: parent.subject,
    resource: parent.resource,
    abilities: parent.abilities.filter(a => a !== 'delegate'),
    notBefore: parent.notBefore,
    expiry: parent.expiry,
    depth: parent.depth - 1,
    parent: parent.id,
    purpose: parent.purpose,
    ...overrides
  }, signer)
}

/** Runs one request through a fresh controller; checks the decision was audited as returned. */
async function decide (req: AccessRequest, init: Parameters<typeof controller>[0] = {}): Promise<Decision> {
  const { ac, audited } = controller(init)
  const decision = await ac.check(req)
  expect(audited).toHaveLength(1)
  expect(audited[0]).toEqual(decision)
  return decision
}

async function expectDenied (req: AccessRequest, reason: string, init: Parameters<typeof controller>[0] = {}): Promise<Decision> {
  const decision = await decide(req, init)
  expect(decision.allow ? 'ALLOW' : decision.reason).toBe(reason)
  expect(decision.chainIds.length).toBeGreaterThan(0)
  return decision
}

/** Re-wraps a certificate's envelope with changed payload bytes or signature. */
function tamper (cert: Certificate, change: { payload?: Uint8Array, signature?: Uint8Array, signer?: Uint8Array }): Uint8Array {
  return encodeEnvelope({ ...decodeEnvelope(cert.bytes), ...change })
}

describe('access control: allowed requests', () => {
  it('the data owner\'s direct grant, used by its audience', async () => {
    const root = rootGrant()
    const d = await decide(request(keys.doctor, [root]))
    expect(d.allow).toBe(true)
    if (!d.allow) return
    expect(d.chainIds).toEqual([root.id])
    expect(d.requester).toBe(Buffer.from(keys.doctor.publicKey).toString('hex'))
    expect(d.subject).toBe(Buffer.from(keys.patient.publicKey).toString('hex'))
    expect(d.purpose).toBe('TREAT')
    expect(d.resource).toEqual({ contentId: 'bafyfileA', lfn: 'lfn-A' })
    expect(d.expiresAt).toBe(NOW + 60_000) // the invocation's expiry comes first
  })

  it('a five-link chain built by attenuation', async () => {
    let cert = rootGrant({ depth: 4 })
    const chain = [cert]
    const holders = [keys.doctor, keys.resident, keys.student, keys.nurse, keys.extra]
    for (let i = 1; i < 5; i++) {
      cert = delegate(cert, { audience: (holders[i] as SeededSigner).publicKey, expiry: S + (30 - i) * DAY }, holders[i - 1] as SeededSigner)
      chain.push(cert)
    }
    const d = await decide(request(keys.extra, chain))
    expect(d.allow).toBe(true)
    expect(d.chainIds).toEqual(chain.map(c => c.id))
  })

  it('an identified-read grant covers plain reads; a file grant covers its file', async () => {
    const root = rootGrant({ abilities: ['image/read-identified'], resource: { file: { owner: keys.patient.publicKey, contentId: 'bafyfileA' } } })
    expect((await decide(request(keys.doctor, [root]))).allow).toBe(true)
    expect((await decide(request(keys.doctor, [root], {}, 'image/read-identified'))).allow).toBe(true)
  })

  it('a group grant, used by a member holding a membership from the group\'s root', async () => {
    const root = rootGrant({ audience: { root: keys.clinic.publicKey, name: 'cardiologists' } })
    const membership = issueMembership({ group: 'cardiologists', member: keys.resident.publicKey, notBefore: S - 60, expiry: S + 3600 }, keys.clinic)
    const d = await decide(request(keys.resident, [root], { memberships: [membership.bytes] }))
    expect(d.allow).toBe(true)
  })

  it('the master hospital, as custodian, grants on its patients\' files', async () => {
    const root = rootGrant({}, keys.hospital)
    const d = await decide(request(keys.doctor, [root], {}, 'image/read', { ...chestCt, custodian: keys.hospital.publicKey }))
    expect(d.allow).toBe(true)
  })

  it('certificate times tolerate ±60 s of clock skew', async () => {
    expect((await decide(request(keys.doctor, [rootGrant({ notBefore: S + 50 })]))).allow).toBe(true)
    expect((await decide(request(keys.doctor, [rootGrant({ expiry: S - 50 })]))).allow).toBe(true)
  })
})

describe('access control: the issue\'s attacks', () => {
  it('forged signature → BAD_SIGNATURE', async () => {
    const root = rootGrant()
    const envelope = decodeEnvelope(root.bytes)
    const forged = tamper(root, { signature: keys.mallory.sign(signedMessage(SAC_RECORD, envelope.payload)) })
    await expectDenied({ ...request(keys.doctor, [root]), chain: [forged] }, 'BAD_SIGNATURE')
    // Mallory signs a grant naming the patient as issuer with her own key.
    const claimed = rootGrant({}, keys.mallory)
    const payload = decodeEnvelope(claimed.bytes).payload
    const asPatient = encodeEnvelope({ ...decodeEnvelope(claimed.bytes), payload, signer: keys.patient.publicKey })
    await expectDenied({ ...request(keys.doctor, [claimed]), chain: [asPatient] }, 'BAD_SIGNATURE')
  })

  it('a certificate signed by a key other than the issuer it names → BAD_SIGNATURE', async () => {
    const honest = rootGrant()
    const payload = decodeEnvelope(honest.bytes).payload
    const signature = keys.mallory.sign(signedMessage(SAC_RECORD, payload))
    const swapped = encodeEnvelope({ type: 'dm2/sac', version: 1, payload, signer: keys.mallory.publicKey, signature })
    const d = await expectDenied({ ...request(keys.doctor, [honest]), chain: [swapped] }, 'BAD_SIGNATURE')
    expect(d.allow ? '' : d.detail).toContain('another key than its issuer')
  })

  it('a valid signature over non-canonical bytes → NON_CANONICAL', async () => {
    const root = rootGrant()
    const value = decodeEnvelope(root.bytes).payload
    // The same payload, map keys reversed, signed by the patient: a valid signature, non-canonical bytes.
    const { decode } = await import('cborg')
    const reversed = encode(decode(value), { mapSorter: (a, b) => -((a[0] as { value: string }).value.localeCompare((b[0] as { value: string }).value)) })
    expect(Buffer.from(reversed).equals(Buffer.from(value))).toBe(false)
    const signed = encodeEnvelope({ type: 'dm2/sac', version: 1, payload: reversed, signer: keys.patient.publicKey, signature: keys.patient.sign(signedMessage(SAC_RECORD, reversed)) })
    await expectDenied({ ...request(keys.doctor, [root]), chain: [signed] }, 'NON_CANONICAL')
  })

  it('altered field → BAD_SIGNATURE', async () => {
    const root = rootGrant()
    const { decode } = await import('cborg')
    const fields = decode(decodeEnvelope(root.bytes).payload) as Record<string, unknown>
    const altered = tamper(root, { payload: encode({ ...fields, expiry: S + 3650 * DAY }) })
    await expectDenied({ ...request(keys.doctor, [root]), chain: [altered] }, 'BAD_SIGNATURE')
  })

  it('expired → EXPIRED; not yet valid → NOT_YET_VALID', async () => {
    await expectDenied(request(keys.doctor, [rootGrant({ notBefore: S - 10 * DAY, expiry: S - DAY })]), 'EXPIRED')
    await expectDenied(request(keys.doctor, [rootGrant({ notBefore: S + 3600, expiry: S + DAY })]), 'NOT_YET_VALID')
    await expectDenied(request(keys.doctor, [rootGrant({ notBefore: S + 90 })]), 'NOT_YET_VALID')
  })

  it('wrong audience: a grant to the doctor used by Mallory → WRONG_AUDIENCE', async () => {
    await expectDenied(request(keys.mallory, [rootGrant()]), 'WRONG_AUDIENCE')
  })

  it('escalation through delegation → ESCALATION (wider ability, wider resource, longer validity, depth)', async () => {
    const root = rootGrant()
    const cases: Array<[string, Partial<CertificateFields>]> = [
      ['wider ability', { abilities: ['image/read', 'meta/read-identified'] }],
      ['identified from plain', { abilities: ['image/read-identified'] }],
      ['wider resource', { resource: { selector: { modality: ['CT', 'MR', 'US'] } } }],
      ['unconstrained resource', { resource: { selector: {} } }],
      ['longer validity', { expiry: S + 31 * DAY }],
      ['earlier start', { notBefore: S - 2 * DAY }],
      ['depth not decreasing', { depth: 3, abilities: ['delegate', 'image/read'] }]
    ]
    for (const [what, overrides] of cases) {
      const child = rawChild(root, overrides, keys.doctor)
      const d = await expectDenied(request(keys.resident, [root, child]), 'ESCALATION')
      expect({ what, link: d.allow ? -1 : d.link }).toEqual({ what, link: 1 })
    }
  })

  it('delegating from a certificate without `delegate`, or at depth 0 → ESCALATION', async () => {
    const noDelegate = rootGrant({ abilities: ['image/read'] })
    await expectDenied(request(keys.resident, [noDelegate, rawChild(noDelegate, { depth: 0 }, keys.doctor)]), 'ESCALATION')
    const depth0 = rootGrant({ depth: 0 })
    await expectDenied(request(keys.resident, [depth0, rawChild(depth0, { depth: 0 }, keys.doctor)]), 'ESCALATION')
  })

  it('a selector that widens → ESCALATION; a file grant re-delegated as a selector → ESCALATION', async () => {
    const root = rootGrant({ resource: { selector: { modality: ['CT'], bodyPart: ['CHEST'] } } })
    await expectDenied(request(keys.resident, [root, rawChild(root, { resource: { selector: { modality: ['CT'] } } }, keys.doctor)]), 'ESCALATION')
    const file = rootGrant({ resource: { file: { owner: keys.patient.publicKey, contentId: 'bafyfileA' } } })
    await expectDenied(request(keys.resident, [file, rawChild(file, { resource: { selector: { modality: ['CT'] } } }, keys.doctor)]), 'ESCALATION')
  })

  it('chain longer than 5 → CHAIN_TOO_LONG', async () => {
    let cert = rootGrant({ depth: 4 })
    const chain = [cert]
    const holders = [keys.doctor, keys.resident, keys.student, keys.nurse, keys.extra, keys.mallory]
    for (let i = 1; i <= MAX_CHAIN_LENGTH; i++) {
      cert = rawChild(cert, { audience: (holders[i] as SeededSigner).publicKey, depth: Math.max(cert.depth - 1, 0), abilities: ['delegate', 'image/read'] }, holders[i - 1] as SeededSigner)
      chain.push(cert)
    }
    await expectDenied(request(keys.mallory, chain), 'CHAIN_TOO_LONG')
  })

  it('broken chain link → BROKEN_CHAIN', async () => {
    const root = rootGrant()
    const other = rootGrant({ nonce: new Uint8Array(16).fill(1) })
    // A child naming another parent.
    await expectDenied(request(keys.resident, [root, rawChild(other, {}, keys.doctor)]), 'BROKEN_CHAIN')
    // A child issued by someone who is not the parent's audience.
    await expectDenied(request(keys.resident, [root, rawChild(root, {}, keys.mallory)]), 'BROKEN_CHAIN')
    // A root not issued by its subject.
    await expectDenied(request(keys.doctor, [rootGrant({ subject: keys.patient.publicKey }, keys.mallory)]), 'BROKEN_CHAIN')
    // Links in the wrong order.
    const child = delegate(root, { audience: keys.resident.publicKey }, keys.doctor)
    await expectDenied({ ...request(keys.resident, [root, child]), chain: [child.bytes, root.bytes] }, 'BROKEN_CHAIN')
    // An invocation naming another leaf than the chain's.
    await expectDenied({ ...request(keys.doctor, [root]), invocation: invoke(keys.doctor, other) }, 'BROKEN_CHAIN')
  })

  it('replayed invocation → REPLAY', async () => {
    const { ac, audited } = controller()
    const req = request(keys.doctor, [rootGrant()])
    expect((await ac.check(req)).allow).toBe(true)
    const again = await ac.check(req)
    expect(again.allow ? 'ALLOW' : again.reason).toBe('REPLAY')
    expect(audited.map(d => d.allow)).toEqual([true, false])
  })

  it('invocation for another server → WRONG_AUDIENCE; through another node → WRONG_ORIGIN', async () => {
    const root = rootGrant()
    await expectDenied({ ...request(keys.doctor, [root]), invocation: invoke(keys.doctor, root, { audience: '12D3KooWAnotherServer' }) }, 'WRONG_AUDIENCE')
    await expectDenied({ ...request(keys.doctor, [root]), remotePeer: '12D3KooWSomeOtherNode' }, 'WRONG_ORIGIN')
  })

  it('invocation for another command or arguments → INVOCATION_MISMATCH; too long-lived → LIFETIME_TOO_LONG', async () => {
    const root = rootGrant()
    await expectDenied({ ...request(keys.doctor, [root]), command: 'image/delete' }, 'INVOCATION_MISMATCH')
    await expectDenied({ ...request(keys.doctor, [root]), args: hashArguments({ lfn: 'lfn-B' }) }, 'INVOCATION_MISMATCH')
    await expectDenied({ ...request(keys.doctor, [root]), invocation: invoke(keys.doctor, root, { lifetimeS: 121 }) }, 'LIFETIME_TOO_LONG')
  })

  it('revoked certificate and its descendants → REVOKED', async () => {
    const root = rootGrant()
    const child = delegate(root, { audience: keys.resident.publicKey, depth: 1, abilities: ['delegate', 'image/read'] }, keys.doctor)
    const grandchild = delegate(child, { audience: keys.student.publicKey }, keys.resident)
    const revoked = new Set([child.id])
    const revocations = { isRevoked: (id: string) => revoked.has(id) }
    await expectDenied(request(keys.resident, [root, child]), 'REVOKED', { revocations })
    const d = await expectDenied(request(keys.student, [root, child, grandchild]), 'REVOKED', { revocations })
    expect(d.allow ? -1 : d.link).toBe(1)
    // The parent itself still works.
    expect((await decide(request(keys.doctor, [root]), { revocations })).allow).toBe(true)
    revoked.add(root.id)
    await expectDenied(request(keys.doctor, [root]), 'REVOKED', { revocations })
  })

  it('group membership expired, from the wrong root, missing, or too long-lived → GROUP_INVALID', async () => {
    const root = rootGrant({ audience: { root: keys.clinic.publicKey, name: 'cardiologists' } })
    const expired = issueMembership({ group: 'cardiologists', member: keys.resident.publicKey, notBefore: S - 7200, expiry: S - 3600 }, keys.clinic)
    await expectDenied(request(keys.resident, [root], { memberships: [expired.bytes] }), 'GROUP_INVALID')
    const wrongRoot = issueMembership({ group: 'cardiologists', member: keys.resident.publicKey, notBefore: S - 60, expiry: S + 3600 }, keys.otherClinic)
    await expectDenied(request(keys.resident, [root], { memberships: [wrongRoot.bytes] }), 'GROUP_INVALID')
    const otherGroup = issueMembership({ group: 'nurses', member: keys.resident.publicKey, notBefore: S - 60, expiry: S + 3600 }, keys.clinic)
    await expectDenied(request(keys.resident, [root], { memberships: [otherGroup.bytes] }), 'GROUP_INVALID')
    await expectDenied(request(keys.resident, [root]), 'GROUP_INVALID')
    const tooLong = issueMembership({ group: 'cardiologists', member: keys.resident.publicKey, notBefore: S - 60, expiry: S + 30 * DAY }, keys.clinic, 31 * DAY)
    await expectDenied(request(keys.resident, [root], { memberships: [tooLong.bytes] }), 'GROUP_INVALID')
    // Someone else's valid membership does not admit Mallory.
    const valid = issueMembership({ group: 'cardiologists', member: keys.resident.publicKey, notBefore: S - 60, expiry: S + 3600 }, keys.clinic)
    await expectDenied(request(keys.mallory, [root], { memberships: [valid.bytes] }), 'GROUP_INVALID')
  })

  it('a certificate for file A used on file B → RESOURCE_MISMATCH', async () => {
    const fileA = rootGrant({ resource: { file: { owner: keys.patient.publicKey, contentId: 'bafyfileA' } } })
    await expectDenied(request(keys.doctor, [fileA], {}, 'image/read', headMr), 'RESOURCE_MISMATCH')
  })

  it('a grant by someone who does not own the resource → RESOURCE_MISMATCH', async () => {
    const strangersGrant = rootGrant({}, keys.mallory)
    await expectDenied(request(keys.doctor, [strangersGrant]), 'RESOURCE_MISMATCH')
  })

  it('a file outside a child\'s narrower selector → RESOURCE_MISMATCH; an ability not granted → ABILITY_MISSING', async () => {
    const root = rootGrant()
    const child = delegate(root, { audience: keys.resident.publicKey, resource: { selector: { modality: ['MR'] } } }, keys.doctor)
    await expectDenied(request(keys.resident, [root, child]), 'RESOURCE_MISMATCH')
    await expectDenied(request(keys.doctor, [root], {}, 'annotate'), 'ABILITY_MISSING')
  })

  it('a small-order signer key → WEAK_KEY; an invocation presented as a certificate → WRONG_TYPE', async () => {
    const root = rootGrant()
    const identity = Uint8Array.from(Buffer.from('01'.padEnd(64, '0'), 'hex'))
    const weak = tamper(root, { signer: identity, signature: Uint8Array.from([...identity, ...new Uint8Array(32)]) })
    await expectDenied({ ...request(keys.doctor, [root]), chain: [weak] }, 'WEAK_KEY')
    await expectDenied({ ...request(keys.doctor, [root]), chain: [invoke(keys.doctor, root)] }, 'WRONG_TYPE')
  })

  it('garbage, empty chains and bad requests → MALFORMED', async () => {
    const root = rootGrant()
    await expectDenied({ ...request(keys.doctor, [root]), chain: [new Uint8Array([1, 2, 3])] }, 'MALFORMED')
    const d = await decide({ ...request(keys.doctor, [root]), chain: [] })
    expect(d.allow ? 'ALLOW' : d.reason).toBe('MALFORMED')
    await expectDenied({ ...request(keys.doctor, [root]), ability: 'root' as 'query' }, 'MALFORMED')
    await expectDenied({ ...request(keys.doctor, [root]), invocation: new Uint8Array(5000) }, 'MALFORMED')
  })
})

describe('access control: failing dependencies fail closed', () => {
  it('an allow the audit sink cannot record becomes AUDIT_FAILED', async () => {
    const { ac } = controller({ audit: { record: async () => { throw new Error('disk full') } } })
    const d = await ac.check(request(keys.doctor, [rootGrant()]))
    expect(d.allow ? 'ALLOW' : d.reason).toBe('AUDIT_FAILED')
  })

  it('a throwing revocation store → INTERNAL_ERROR', async () => {
    await expectDenied(request(keys.doctor, [rootGrant()]), 'INTERNAL_ERROR', { revocations: { isRevoked: () => { throw new Error('store down') } } })
  })

  it('every reason code is distinct and used by the catalogue', () => {
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length)
    expect(REASON_CODES).toContain('REPLAY')
    expect(SERVER.length).toBeGreaterThan(0)
  })
})
