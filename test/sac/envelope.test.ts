import { createHash } from 'node:crypto'
import { encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readCanonicalEnvelope } from '../../src/sac/envelope-fast.js'
import {
  decodeCanonical, decodeEnvelope, defineRecordType, encodeEnvelope, generateSigner, INVOCATION_RECORD, lookupRecordType,
  peekRecordId, recordId, REVOCATION_RECORD, ROSTER_RECORD, SAC_RECORD, signedMessage, signRecord, verifyRecord
} from '../../src/sac/index.js'

const signer = generateSigner()
const other = generateSigner()
const value = { revoked: new Uint8Array(32).fill(7), at: 1_700_000_000 }

function errorOf (fn: () => unknown): { name: string, reason?: string } {
  try {
    fn()
  } catch (err) {
    const e = err as { name: string, reason?: string }
    return e.reason === undefined ? { name: e.name } : { name: e.name, reason: e.reason }
  }
  throw new Error('expected an error')
}

describe('signed envelope', () => {
  it('signs and verifies a record; the id is SHA-256 of the domain-separated payload', () => {
    const { bytes, id } = signRecord(REVOCATION_RECORD, value, signer)
    const record = verifyRecord(bytes, REVOCATION_RECORD)
    expect(record.value).toEqual(value)
    expect(record.id).toBe(id)
    expect(Buffer.from(record.signer).equals(Buffer.from(signer.publicKey))).toBe(true)
    const envelope = decodeEnvelope(bytes)
    const message = Buffer.concat([encode(['DM2 certificate revocation v1', 'dm2/revocation', 1]), envelope.payload])
    expect(Buffer.from(signedMessage(REVOCATION_RECORD, envelope.payload)).equals(message)).toBe(true)
    expect(id).toBe(createHash('sha256').update(message).digest('hex'))
    expect(peekRecordId(bytes, REVOCATION_RECORD)).toBe(id)
  })

  it('the id never covers the signature: two signers of one payload give one id', () => {
    const a = signRecord(ROSTER_RECORD, { sites: ['a', 'b'] }, signer)
    const b = signRecord(ROSTER_RECORD, { sites: ['a', 'b'] }, other)
    expect(a.id).toBe(b.id)
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(false)
    expect(verifyRecord(a.bytes, ROSTER_RECORD).id).toBe(verifyRecord(b.bytes, ROSTER_RECORD).id)
  })

  it('the same payload under another record type has another id', () => {
    const payload = decodeEnvelope(signRecord(REVOCATION_RECORD, value, signer).bytes).payload
    expect(recordId(REVOCATION_RECORD, payload)).not.toBe(recordId(INVOCATION_RECORD, payload))
  })

  it('a record opened as another type is WRONG_TYPE', () => {
    const { bytes } = signRecord(REVOCATION_RECORD, value, signer)
    expect(errorOf(() => verifyRecord(bytes, SAC_RECORD))).toEqual({ name: 'WrongRecordTypeError', reason: 'WRONG_TYPE' })
  })

  it('re-labelling the type breaks the signature (domain separation)', () => {
    const envelope = decodeEnvelope(signRecord(REVOCATION_RECORD, value, signer).bytes)
    const relabelled = encodeEnvelope({ ...envelope, type: INVOCATION_RECORD.type })
    expect(errorOf(() => verifyRecord(relabelled, INVOCATION_RECORD))).toEqual({ name: 'SignatureError', reason: 'BAD_SIGNATURE' })
  })

  it('a forged signature (another key, same signer field) is BAD_SIGNATURE', () => {
    const envelope = decodeEnvelope(signRecord(REVOCATION_RECORD, value, signer).bytes)
    const forged = encodeEnvelope({ ...envelope, signature: other.sign(signedMessage(REVOCATION_RECORD, envelope.payload)) })
    expect(errorOf(() => verifyRecord(forged, REVOCATION_RECORD))).toEqual({ name: 'SignatureError', reason: 'BAD_SIGNATURE' })
  })

  it('a valid signature over non-canonical payload bytes is NON_CANONICAL', () => {
    // Keys out of canonical order, validly signed.
    const payload = Uint8Array.from(Buffer.from('a2627a7a0161610f', 'hex')) // {"zz":1,"a":15}
    const signature = signer.sign(signedMessage(REVOCATION_RECORD, payload))
    const bytes = encodeEnvelope({ type: 'dm2/revocation', version: 1, payload, signer: signer.publicKey, signature })
    expect(errorOf(() => verifyRecord(bytes, REVOCATION_RECORD))).toEqual({ name: 'NonCanonicalError', reason: 'NON_CANONICAL' })
  })

  it('a non-canonical envelope around a valid record is NON_CANONICAL', () => {
    const { bytes } = signRecord(REVOCATION_RECORD, value, signer)
    const envelope = decodeEnvelope(bytes)
    // Same fields, keys written in insertion order (type first) instead of canonical order.
    const parts = [['type', envelope.type], ['version', envelope.version], ['payload', envelope.payload], ['signer', envelope.signer], ['signature', envelope.signature]] as const
    const chunks: Uint8Array[] = [Uint8Array.of(0xa5)]
    for (const [k, v] of parts) chunks.push(encode(k), encode(v))
    const reordered = Buffer.concat(chunks)
    expect(reordered.length).toBe(bytes.length)
    expect(errorOf(() => verifyRecord(reordered, REVOCATION_RECORD))).toEqual({ name: 'NonCanonicalError', reason: 'NON_CANONICAL' })
  })

  it('an envelope with an extra or missing field is MALFORMED', () => {
    const envelope = decodeEnvelope(signRecord(REVOCATION_RECORD, value, signer).bytes)
    const extra = encode({ ...envelope, note: 'x' })
    expect(errorOf(() => verifyRecord(extra, REVOCATION_RECORD)).reason).toBe('MALFORMED')
    const { signature: _s, ...missing } = envelope
    expect(errorOf(() => verifyRecord(encode(missing), REVOCATION_RECORD)).reason).toBe('MALFORMED')
  })

  it('an envelope over the type\'s size cap is refused before decoding', () => {
    const big = new Uint8Array(REVOCATION_RECORD.maxBytes + 1)
    expect(errorOf(() => verifyRecord(big, REVOCATION_RECORD))).toEqual({ name: 'MalformedRecordError', reason: 'MALFORMED' })
    expect(errorOf(() => signRecord(REVOCATION_RECORD, { pad: new Uint8Array(2000) }, signer)).reason).toBe('MALFORMED')
  })

  it('a verified record does not change when the caller reuses its buffer', () => {
    const { bytes } = signRecord(REVOCATION_RECORD, value, signer)
    const record = verifyRecord(bytes, REVOCATION_RECORD)
    const signerBefore = Buffer.from(record.signer).toString('hex')
    bytes.fill(0)
    expect(Buffer.from(record.signer).toString('hex')).toBe(signerBefore)
  })

  it('record types: contexts are unique, redefinition must be identical', () => {
    const a = defineRecordType({ type: 'dm2/test-thing', version: 1, context: 'DM2 test thing v1', maxBytes: 512 })
    expect(defineRecordType({ type: 'dm2/test-thing', version: 1, context: 'DM2 test thing v1', maxBytes: 512 })).toBe(a)
    expect(lookupRecordType('dm2/test-thing', 1)).toBe(a)
    expect(errorOf(() => defineRecordType({ type: 'dm2/test-thing', version: 1, context: 'DM2 test thing v1 bis', maxBytes: 512 })).name).toBe('RecordTypeConflictError')
    expect(errorOf(() => defineRecordType({ type: 'dm2/other', version: 1, context: SAC_RECORD.context, maxBytes: 512 })).name).toBe('RecordTypeConflictError')
    expect(errorOf(() => defineRecordType({ type: 'not-dm2', version: 1, context: 'DM2 something v1', maxBytes: 512 })).name).toBe('RecordTypeConflictError')
  })

  it('property: the direct reader of canonical envelopes agrees with decode + re-encode', () => {
    /** The general path alone: cborg decode, data-model walk, re-encode and compare. */
    function reference (bytes: Uint8Array): unknown {
      try {
        return decodeCanonical(bytes, 1 << 20)
      } catch {
        return undefined
      }
    }
    const envelopeArb = fc.record({
      type: fc.oneof(fc.constantFrom('dm2/sac', 'dm2/invocation'), fc.string({ minLength: 1, maxLength: 70 })),
      version: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 2 ** 40 })),
      payload: fc.uint8Array({ maxLength: 300 }),
      signer: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
    })
    let accepted = 0
    let declined = 0
    fc.assert(fc.property(envelopeArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (envelope, at, xor) => {
      const bytes = Uint8Array.from(encode(envelope))
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ xor
      const fast = readCanonicalEnvelope(bytes)
      const ref = reference(bytes)
      if (fast !== undefined) {
        // Whatever the reader accepts is canonical and decodes to the same fields.
        expect(ref).toEqual({ ...fast })
        accepted++
      } else if (ref !== undefined && typeof ref === 'object') {
        // The reader only declines canonical envelopes it leaves to the general path on purpose.
        const r = ref as Record<string, unknown>
        const plain = Object.keys(r).sort().join(',') === 'payload,signature,signer,type,version' &&
          typeof r.type === 'string' && /^[\x20-\x7e]{1,64}$/.test(r.type) &&
          typeof r.version === 'number' && r.version >= 1 && r.version < 2 ** 32 &&
          r.signer instanceof Uint8Array && r.signer.length === 32 &&
          r.signature instanceof Uint8Array && r.signature.length === 64 && r.payload instanceof Uint8Array
        expect(plain).toBe(false)
        declined++
      }
    }), { numRuns: 1500 })
    expect(accepted).toBeGreaterThan(500)
    expect(declined).toBeGreaterThan(20)
  })
})
