import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ABILITIES, certificateToJSON, delegate, issueCertificate, issueMembership, mayRevoke, normalizeSelector, VerifiedCache, verifyChain
} from '../../src/sac/index.js'
import type { Ability, Certificate, Selector, SeededSigner } from '../../src/sac/index.js'
import { DAY, flip, keys, NOW, rootGrant, S } from './fixtures.js'

const pool: SeededSigner[] = [keys.patient, keys.doctor, keys.resident, keys.student, keys.nurse, keys.extra]
const signerAt = (i: number): SeededSigner => pool[i] as SeededSigner

function errorName (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as Error).name
  }
  return 'none'
}

/** One step of attenuation, as random choices. */
interface Step {
  dropAbilities: boolean[]
  modalities: string[] | undefined
  addBodyPart: boolean
  shorten: number
  later: number
  depthCut: number
}

const modalityPool = ['CT', 'MR', 'US', 'PT', 'XA']
const stepArb: fc.Arbitrary<Step> = fc.record({
  dropAbilities: fc.array(fc.boolean(), { minLength: ABILITIES.length, maxLength: ABILITIES.length }),
  modalities: fc.option(fc.subarray(modalityPool, { minLength: 1 }), { nil: undefined }),
  addBodyPart: fc.boolean(),
  shorten: fc.integer({ min: 0, max: 5 * DAY }),
  later: fc.integer({ min: 0, max: 3600 }),
  depthCut: fc.integer({ min: 0, max: 2 })
})

/** Builds a chain of 1 + steps.length links using `delegate` only. */
function attenuatedChain (rootModalities: string[], steps: Step[]): Certificate[] {
  let cert = issueCertificate({
    audience: signerAt(1).publicKey,
    resource: { selector: { modality: rootModalities as Selector['modality'] } },
    abilities: [...ABILITIES],
    notBefore: S - DAY,
    expiry: S + 30 * DAY,
    depth: 4,
    purpose: 'HRESCH'
  }, signerAt(0))
  const chain = [cert]
  for (const [i, step] of steps.entries()) {
    const remaining = steps.length - i - 1
    let abilities: Ability[] = cert.abilities.filter((a, j) => a === 'delegate' || step.dropAbilities[j] !== true)
    const depth = Math.max(remaining, cert.depth - 1 - step.depthCut)
    if (depth === 0) abilities = abilities.filter(a => a !== 'delegate')
    // Keep at least one usable ability (every link holds one, by induction from the root).
    if (!abilities.some(a => a !== 'delegate')) abilities.push(cert.abilities.find(a => a !== 'delegate') as Ability)
    const parentSel = 'selector' in cert.resource ? cert.resource.selector : {}
    const modality = step.modalities === undefined
      ? parentSel.modality
      : (parentSel.modality?.filter(m => step.modalities?.includes(m)) ?? step.modalities)
    const selector: Selector = { ...parentSel }
    if (modality !== undefined && modality.length > 0) selector.modality = modality as Selector['modality']
    if (step.addBodyPart && selector.bodyPart === undefined) selector.bodyPart = ['CHEST']
    cert = delegate(cert, {
      audience: signerAt(i + 2).publicKey,
      abilities,
      resource: { selector: normalizeSelector(selector) },
      notBefore: Math.min(cert.notBefore + step.later, S - 120),
      expiry: cert.expiry - step.shorten,
      depth
    }, signerAt(i + 1))
    chain.push(cert)
  }
  return chain
}

const chainArb = fc.tuple(fc.subarray(modalityPool, { minLength: 1 }), fc.array(stepArb, { maxLength: 4 }))

describe('delegation chains', () => {
  it('property: random chains built by attenuation only verify', () => {
    fc.assert(fc.property(chainArb, ([modalities, steps]) => {
      const chain = attenuatedChain(modalities, steps)
      const result = verifyChain(chain.map(c => c.bytes), { now: NOW, holder: signerAt(chain.length).publicKey })
      expect(result.ok ? 'ok' : `${result.reason}: ${result.detail}`).toBe('ok')
      if (result.ok) expect(result.chain.ids).toEqual(chain.map(c => c.id))
    }), { numRuns: 40 })
  })

  it('property: any single byte mutation of any link fails, with or without a warm cache', () => {
    const chains = [attenuatedChain(['CT', 'MR'], []), attenuatedChain(['CT', 'MR'], [
      { dropAbilities: [], modalities: ['CT'], addBodyPart: true, shorten: 10, later: 0, depthCut: 0 },
      { dropAbilities: [], modalities: undefined, addBodyPart: false, shorten: 10, later: 0, depthCut: 0 },
      { dropAbilities: [], modalities: undefined, addBodyPart: false, shorten: 10, later: 0, depthCut: 0 },
      { dropAbilities: [], modalities: undefined, addBodyPart: false, shorten: 10, later: 0, depthCut: 0 }
    ])]
    const cache = new VerifiedCache()
    for (const chain of chains) {
      const links = chain.map(c => c.bytes)
      expect(verifyChain(links, { now: NOW, cache }).ok).toBe(true)
    }
    fc.assert(fc.property(fc.nat(1), fc.nat(4), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (which, linkAt, byteAt, xor, cached) => {
      const links = (chains[which] as Certificate[]).map(c => c.bytes)
      const li = linkAt % links.length
      const target = links[li] as Uint8Array
      const mutated = Uint8Array.from(target)
      const bi = byteAt % mutated.length
      mutated[bi] = (mutated[bi] as number) ^ xor
      links[li] = mutated
      const result = verifyChain(links, cached ? { now: NOW, cache } : { now: NOW })
      expect(result.ok).toBe(false)
    }), { numRuns: 400 })
  })

  it('the cache skips re-verification, but not for bytes that only share an id', () => {
    const root = rootGrant()
    const child = delegate(root, { audience: keys.resident.publicKey }, keys.doctor)
    const cache = new VerifiedCache()
    expect(verifyChain([root.bytes, child.bytes], { now: NOW, cache }).ok).toBe(true)
    expect(cache.stats()).toEqual({ hits: 0, misses: 2, size: 2 })
    expect(verifyChain([root.bytes, child.bytes], { now: NOW, cache }).ok).toBe(true)
    expect(cache.stats()).toEqual({ hits: 2, misses: 2, size: 2 })
    // Last signature byte flipped: same payload, same id — must be verified and rejected.
    const badSig = flip(child.bytes, child.bytes.length - 1)
    const result = verifyChain([root.bytes, badSig], { now: NOW, cache })
    expect(result.ok ? 'ok' : result.reason).toBe('BAD_SIGNATURE')
    // Cached certificates are shared: they are frozen.
    const cached = verifyChain([root.bytes], { now: NOW, cache })
    if (cached.ok) expect(() => { (cached.chain.leaf.abilities as string[]).push('annotate') }).toThrow(TypeError)
    // Time and revocation are evaluated on every use, cached or not.
    const later = verifyChain([root.bytes, child.bytes], { now: NOW + 31 * DAY * 1000, cache })
    expect(later.ok ? 'ok' : later.reason).toBe('EXPIRED')
    const revoked = verifyChain([root.bytes, child.bytes], { now: NOW, cache, revocations: { isRevoked: id => id === root.id } })
    expect(revoked.ok ? 'ok' : [revoked.reason, revoked.link]).toEqual(['REVOKED', 0])
  })

  it('a group audience in the middle of a chain: the next issuer must be a member', () => {
    const root = rootGrant({ audience: { root: keys.clinic.publicKey, name: 'radiology' } })
    const member = issueMembership({ group: 'radiology', member: keys.doctor.publicKey, notBefore: S - 60, expiry: S + 3600 }, keys.clinic)
    const child = delegate(root, { audience: keys.resident.publicKey }, keys.doctor)
    const ok = verifyChain([root.bytes, child.bytes], { now: NOW, memberships: [member.bytes], holder: keys.resident.publicKey })
    expect(ok.ok ? ok.chain.membershipIds : []).toEqual([member.id])
    if (ok.ok) expect(ok.chain.expiresAt).toBe((S + 3600) * 1000)
    const missing = verifyChain([root.bytes, child.bytes], { now: NOW, holder: keys.resident.publicKey })
    expect(missing.ok ? 'ok' : [missing.reason, missing.link]).toEqual(['GROUP_INVALID', 1])
    const revoked = verifyChain([root.bytes, child.bytes], { now: NOW, memberships: [member.bytes], revocations: { isRevoked: id => id === member.id } })
    expect(revoked.ok ? 'ok' : revoked.reason).toBe('REVOKED')
    const garbage = verifyChain([root.bytes, child.bytes], { now: NOW, memberships: [new Uint8Array(10)] })
    expect(garbage.ok ? 'ok' : garbage.reason).toBe('GROUP_INVALID')
  })

  it('delegate() refuses to widen and fills what is inherited', () => {
    const root = rootGrant()
    expect(errorName(() => delegate(root, { audience: keys.resident.publicKey, abilities: ['annotate'] }, keys.doctor))).toBe('AttenuationError')
    expect(errorName(() => delegate(root, { audience: keys.resident.publicKey, expiry: root.expiry + 1 }, keys.doctor))).toBe('AttenuationError')
    expect(errorName(() => delegate(root, { audience: keys.resident.publicKey, resource: { selector: {} } }, keys.doctor))).toBe('AttenuationError')
    expect(errorName(() => delegate(root, { audience: keys.resident.publicKey, depth: 3 }, keys.doctor))).toBe('AttenuationError')
    expect(errorName(() => delegate(root, { audience: keys.resident.publicKey }, keys.mallory))).toBe('InvalidCertificateError')
    const child = delegate(root, { audience: keys.resident.publicKey, depth: 0 }, keys.doctor)
    expect(child.depth).toBe(0)
    expect(child.abilities).toEqual(['image/read', 'meta/read'])
    expect(child.parentIds).toEqual([root.id])
    expect(child.expiry).toBe(root.expiry)
    expect(errorName(() => delegate(child, { audience: keys.student.publicKey }, keys.resident))).toBe('AttenuationError')
  })

  it('the certificate schema is strict: bad fields are refused at issue time', () => {
    const base = { audience: keys.doctor.publicKey, resource: { selector: {} }, abilities: ['query'] as Ability[], notBefore: S, expiry: S + DAY, purpose: 'TREAT' }
    expect(errorName(() => issueCertificate({ ...base, expiry: S }, keys.patient))).toBe('InvalidCertificateError')
    expect(errorName(() => issueCertificate({ ...base, depth: 5 }, keys.patient))).toBe('InvalidCertificateError')
    expect(errorName(() => issueCertificate({ ...base, purpose: 'treat the patient named X' }, keys.patient))).toBe('InvalidCertificateError')
    expect(errorName(() => issueCertificate({ ...base, abilities: ['root' as Ability] }, keys.patient))).toBe('InvalidCertificateError')
    expect(errorName(() => issueCertificate({ ...base, resource: { selector: { modality: ['XRAY' as 'CT'] } } }, keys.patient))).toBe('InvalidCertificateError')
    expect(errorName(() => issueCertificate({ ...base, resource: { selector: { date: { from: '20240230' } } } }, keys.patient))).toBe('InvalidCertificateError')
    expect(errorName(() => issueCertificate(base, keys.patient))).toBe('none')
  })

  it('revocation rights: an issuer in the chain may revoke its certificate and the descendants', () => {
    const root = rootGrant()
    const child = delegate(root, { audience: keys.resident.publicKey }, keys.doctor)
    const result = verifyChain([root.bytes, child.bytes], { now: NOW })
    if (!result.ok) throw new Error(result.reason)
    expect(mayRevoke(result.chain, child.id, keys.doctor.publicKey)).toBe(true)
    expect(mayRevoke(result.chain, child.id, keys.patient.publicKey)).toBe(true)
    expect(mayRevoke(result.chain, root.id, keys.doctor.publicKey)).toBe(false)
    expect(mayRevoke(result.chain, child.id, keys.mallory.publicKey)).toBe(false)
    expect(mayRevoke(result.chain, 'ab'.repeat(32), keys.patient.publicKey)).toBe(false)
  })

  it('certificateToJSON renders keys and ids in hex and times in ISO 8601', () => {
    const root = rootGrant()
    const json = certificateToJSON(root)
    expect(json.id).toBe(root.id)
    expect(json.issuer).toBe(Buffer.from(keys.patient.publicKey).toString('hex'))
    expect(json.audience).toEqual({ key: Buffer.from(keys.doctor.publicKey).toString('hex') })
    expect(json.resource).toEqual({ selector: { modality: ['CT', 'MR'] } })
    expect(json.expiry).toBe(new Date((S + 30 * DAY) * 1000).toISOString())
    expect(JSON.parse(JSON.stringify(json))).toEqual(json)
  })
})
