/** The module doc's example, run as written (src/sac/index.ts), and the error catalogue. */
import { describe, expect, it } from 'vitest'
import {
  AccessDeniedError, accessControl, assertAllowed, AttenuationError, createInvocation, delegate, generateSigner,
  hashArguments, InvalidCertificateError, isReasonCode, issueCertificate, MalformedRecordError, NonCanonicalError,
  reasonOf, RecordTypeConflictError, SignatureError, WrongRecordTypeError
} from '../../src/sac/index.js'
import type { Decision } from '../../src/sac/index.js'

describe('src/sac example', () => {
  it('a patient grants, a doctor delegates, a resident reads once', async () => {
    const patient = generateSigner()
    const doctor = generateSigner()
    const now = Date.now()
    const s = Math.floor(now / 1000)
    const root = issueCertificate({
      audience: doctor.publicKey,
      resource: { selector: { modality: ['CT'], bodyPart: ['CHEST'] } },
      abilities: ['image/read', 'delegate'],
      notBefore: s,
      expiry: s + 365 * 86400,
      depth: 1,
      purpose: 'TREAT'
    }, patient)
    const resident = generateSigner()
    const child = delegate(root, { audience: resident.publicKey, abilities: ['image/read'], expiry: s + 7 * 86400 }, doctor)
    const audited: Decision[] = []
    const ac = accessControl({ serverPeer: '12D3KooWServer', audit: { record: d => { audited.push(d) } } })
    const args = hashArguments({ lfn: 'lfn-123' })
    const invocation = createInvocation({
      audience: '12D3KooWServer', origin: '12D3KooWClient', command: 'image/get', args, proof: child.id, now
    }, resident)
    const req = {
      invocation: invocation.bytes,
      chain: [root.bytes, child.bytes],
      command: 'image/get',
      args,
      resource: { owner: patient.publicKey, contentId: 'bafy-example', lfn: 'lfn-123', modality: 'CT', bodyPart: 'CHEST' },
      ability: 'image/read' as const,
      remotePeer: '12D3KooWClient'
    }
    const decision = await ac.check(req)
    assertAllowed(decision)
    expect(decision.chainIds).toEqual([root.id, child.id])
    const again = await ac.check(req)
    expect(again.allow ? 'ALLOW' : again.reason).toBe('REPLAY')
    expect(() => { assertAllowed(again) }).toThrow(AccessDeniedError)
    expect(audited.map(d => d.allow)).toEqual([true, false])
  })
})

describe('error catalogue', () => {
  it('every error class carries its name (tests and logs rely on err.name) and maps to a reason', () => {
    const errors: Array<[Error, string, string]> = [
      [new MalformedRecordError('x'), 'MalformedRecordError', 'MALFORMED'],
      [new NonCanonicalError('x'), 'NonCanonicalError', 'NON_CANONICAL'],
      [new WrongRecordTypeError('a', 'b'), 'WrongRecordTypeError', 'WRONG_TYPE'],
      [new SignatureError('WEAK_KEY', 'x'), 'SignatureError', 'WEAK_KEY'],
      [new InvalidCertificateError('x'), 'InvalidCertificateError', 'MALFORMED'],
      [new AttenuationError('x'), 'AttenuationError', 'ESCALATION'],
      [new AccessDeniedError('REVOKED', 'x'), 'AccessDeniedError', 'REVOKED'],
      [new RecordTypeConflictError('x'), 'RecordTypeConflictError', 'INTERNAL_ERROR'],
      [new TypeError('x'), 'TypeError', 'INTERNAL_ERROR']
    ]
    for (const [err, name, reason] of errors) {
      expect(err.name).toBe(name)
      expect((err.constructor as { name: string }).name).toBe(name)
      expect(reasonOf(err)).toBe(reason)
    }
    expect(isReasonCode('REPLAY')).toBe(true)
    expect(isReasonCode('OK')).toBe(false)
  })
})
