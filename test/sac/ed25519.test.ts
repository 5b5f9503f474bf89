/**
 * One strict Ed25519 rule: node:crypto (with our pre-checks) and the @noble
 * reference accept and reject exactly the same signatures; @noble's own
 * strict verify agrees except on torsion-crafted signatures (cofactored vs
 * cofactorless), which these tests pin down too.
 */
import { createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto'
import * as ed from '@noble/ed25519'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkPublicKey, checkSignature, checkSignatureReference, generateSigner, nobleSignerFromSeed, signerFromSeed,
  SMALL_ORDER_KEYS, verifySignature
} from '../../src/sac/index.js'

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const L = ed.Point.CURVE().n
const P = ed.Point.CURVE().p

function le (n: bigint): Uint8Array {
  return hex(n.toString(16).padStart(64, '0')).reverse()
}
function fromLe (b: Uint8Array): bigint {
  return BigInt('0x' + toHex(Uint8Array.from(b).reverse()))
}

/** node:crypto with no pre-checks at all, to show what the pre-checks are for. */
function nodeAlone (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') }, format: 'jwk' })
    return nodeVerify(null, msg, key, sig)
  } catch {
    return false
  }
}
function nobleStrict (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try {
    return ed.verify(sig, msg, pk, { zip215: false })
  } catch {
    return false
  }
}

/** "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko 2020), github.com/novifinancial/ed25519-speccheck cases 0–11. */
const SPECCHECK: Array<[string, string, string]> = [
  ['8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000'],
  ['9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04'],
  ['aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e'],
  ['9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009'],
  ['e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09'],
  ['e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405'],
  ['85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40', '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623', 'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514'],
  ['85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40', '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623', '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22'],
  ['9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f'],
  ['9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908'],
  ['e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04'],
  ['39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04']
]

describe('Ed25519 signing interop', () => {
  it('a signature made with @noble/ed25519 verifies with node:crypto, and the reverse', () => {
    for (let i = 0; i < 8; i++) {
      const seed = new Uint8Array(randomBytes(32))
      const noble = nobleSignerFromSeed(seed)
      const node = signerFromSeed(seed)
      expect(toHex(noble.publicKey)).toBe(toHex(node.publicKey))
      const msg = new Uint8Array(randomBytes(i * 37))
      const nobleSig = noble.sign(msg)
      const nodeSig = node.sign(msg)
      // RFC 8032 signatures are deterministic: both produce the same bytes.
      expect(toHex(nobleSig)).toBe(toHex(nodeSig))
      expect(checkSignature(nobleSig, msg, noble.publicKey)).toBe('ok')
      expect(nodeAlone(nobleSig, msg, noble.publicKey)).toBe(true)
      expect(ed.verify(nodeSig, msg, node.publicKey, { zip215: false })).toBe(true)
      expect(checkSignatureReference(nodeSig, msg, node.publicKey)).toBe('ok')
    }
  })

  it('generateSigner keys sign what verifySignature accepts, and only for that message and key', () => {
    const a = generateSigner()
    const b = generateSigner()
    const msg = new TextEncoder().encode('hello')
    const sig = a.sign(msg)
    expect(verifySignature(sig, msg, a.publicKey)).toBe(true)
    expect(verifySignature(sig, new TextEncoder().encode('hellp'), a.publicKey)).toBe(false)
    expect(verifySignature(sig, msg, b.publicKey)).toBe(false)
    expect(verifySignature(sig.subarray(0, 63), msg, a.publicKey)).toBe(false)
  })
})

describe('the strict rule on malleated signatures', () => {
  const signer = generateSigner()
  const msg = new TextEncoder().encode('dm2 interop')
  const sig = signer.sign(msg)

  it('S + L: @noble and node:crypto both reject, and so do we (NON_CANONICAL)', () => {
    const S = fromLe(sig.subarray(32))
    const malleated = Uint8Array.from([...sig.subarray(0, 32), ...le(S + L)])
    expect(nobleStrict(malleated, msg, signer.publicKey)).toBe(false)
    expect(nodeAlone(malleated, msg, signer.publicKey)).toBe(false)
    expect(checkSignature(malleated, msg, signer.publicKey)).toBe('NON_CANONICAL')
    expect(checkSignatureReference(malleated, msg, signer.publicKey)).toBe('NON_CANONICAL')
    // @noble's default (ZIP-215) mode rejects it as well: S ≥ L is never accepted.
    expect(ed.verify(malleated, msg, signer.publicKey)).toBe(false)
  })

  it('non-canonical R (y + p): rejected by all', () => {
    // A signature whose R is the identity, written non-canonically (y = p + 1). Made by the key's
    // holder: r = 0, so R = O, and S = k·a for k = H(R‖A‖M) — valid under ZIP-215 decoding.
    const seed = new Uint8Array(randomBytes(32))
    const holder = nobleSignerFromSeed(seed)
    const { scalar } = ed.utils.getExtendedPublicKey(seed)
    const R = le(P + 1n)
    const k = ed.etc.mod(fromLe(ed.hashes.sha512!(ed.etc.concatBytes(R, holder.publicKey, msg))), L)
    const crafted = Uint8Array.from([...R, ...le(ed.etc.mod(k * scalar, L))])
    expect(ed.verify(crafted, msg, holder.publicKey)).toBe(true) // ZIP-215 would take it
    expect(nobleStrict(crafted, msg, holder.publicKey)).toBe(false)
    expect(nodeAlone(crafted, msg, holder.publicKey)).toBe(false)
    expect(checkSignature(crafted, msg, holder.publicKey)).toBe('NON_CANONICAL')
    expect(checkSignatureReference(crafted, msg, holder.publicKey)).toBe('NON_CANONICAL')
  })

  it('small-order keys: the identity key "signs" anything for node:crypto alone; we reject it (WEAK_KEY)', () => {
    const identity = hex('0100000000000000000000000000000000000000000000000000000000000000')
    // With A = O and R = O, S = 0 satisfies [S]B = R + [k]A for every message.
    const forged = Uint8Array.from([...identity, ...new Uint8Array(32)])
    const anyMessage = new TextEncoder().encode('I grant everything')
    expect(nodeAlone(forged, anyMessage, identity)).toBe(true)
    expect(nobleStrict(forged, anyMessage, identity)).toBe(false)
    expect(checkSignature(forged, anyMessage, identity)).toBe('WEAK_KEY')
    expect(checkSignatureReference(forged, anyMessage, identity)).toBe('WEAK_KEY')
  })

  it('non-canonical keys are rejected before node:crypto sees them', () => {
    expect(checkPublicKey(hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))).toBe('NON_CANONICAL') // y = p
    expect(checkPublicKey(hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))).toBe('NON_CANONICAL') // y = p + 1
    expect(checkPublicKey(hex('0100000000000000000000000000000000000000000000000000000000000080'))).toBe('NON_CANONICAL') // x = −0
    expect(checkPublicKey(hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'))).toBe('NON_CANONICAL')
    expect(checkPublicKey(signer.publicKey)).toBe('ok')
    expect(checkPublicKey(new Uint8Array(31))).toBe('MALFORMED')
  })

  it('SMALL_ORDER_KEYS are exactly the 8 points of order dividing 8, per @noble', () => {
    const points = SMALL_ORDER_KEYS.map(h => ed.Point.fromBytes(hex(h), false))
    for (const p of points) expect(p.isSmallOrder()).toBe(true)
    expect(new Set(points.map(p => p.toHex())).size).toBe(8)
    // The subgroup generated by an order-8 point is all of them.
    const g = points[4] as ed.Point
    const generated = new Set<string>()
    let q = ed.Point.ZERO
    for (let i = 0; i < 8; i++) { generated.add(q.toHex()); q = q.add(g) }
    expect([...generated].sort()).toEqual([...SMALL_ORDER_KEYS].sort())
    for (const h of SMALL_ORDER_KEYS) expect(checkPublicKey(hex(h))).toBe('WEAK_KEY')
  })

  it('speccheck vectors: node:crypto + pre-checks and the @noble reference decide identically', () => {
    const ours = SPECCHECK.map(([m, k, s]) => checkSignature(hex(s), hex(m), hex(k)))
    const reference = SPECCHECK.map(([m, k, s]) => checkSignatureReference(hex(s), hex(m), hex(k)))
    expect(reference).toEqual(ours)
    // Only the plain valid cases 2 and 3 pass; small-order and non-canonical A, S ≥ L,
    // non-canonical R and the cofactored-only cases 4 and 5 are all refused.
    expect(ours).toEqual(['WEAK_KEY', 'WEAK_KEY', 'ok', 'ok', 'BAD_SIGNATURE', 'BAD_SIGNATURE',
      'NON_CANONICAL', 'NON_CANONICAL', 'NON_CANONICAL', 'NON_CANONICAL', 'NON_CANONICAL', 'NON_CANONICAL'])
    // Without pre-checks, node:crypto (OpenSSL 3) takes small-order keys (0, 1) and a non-canonical key (11).
    expect(SPECCHECK.map(([m, k, s]) => nodeAlone(hex(s), hex(m), hex(k)))).toEqual(
      [true, true, true, true, false, false, false, false, false, false, false, true])
    // @noble strict = ours everywhere except 4 and 5: a torsion component in A, accepted by the
    // cofactored equation only. Such signatures can only come from the key's holder.
    const noble = SPECCHECK.map(([m, k, s]) => nobleStrict(hex(s), hex(m), hex(k)))
    expect(noble.map((v, i) => v === (ours[i] === 'ok') ? 'same' : i)).toEqual(
      ['same', 'same', 'same', 'same', 4, 5, 'same', 'same', 'same', 'same', 'same', 'same'])
  })

  it('property: random signatures, keys and single-bit malleations get one answer from all three', () => {
    const seeds = Array.from({ length: 4 }, () => new Uint8Array(randomBytes(32)))
    fc.assert(fc.property(fc.nat(3), fc.uint8Array({ maxLength: 64 }), fc.nat(95 * 8), fc.boolean(), (which, msg, bit, mutate) => {
      const s = nobleSignerFromSeed(seeds[which] as Uint8Array)
      const signature = s.sign(msg)
      const bytes = Uint8Array.from([...signature, ...s.publicKey])
      if (mutate) bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7))
      const sig = bytes.subarray(0, 64)
      const key = bytes.subarray(64)
      const ours = checkSignature(sig, msg, key)
      expect(checkSignatureReference(sig, msg, key)).toBe(ours)
      expect(nobleStrict(sig, msg, key)).toBe(ours === 'ok')
      expect(ours === 'ok').toBe(!mutate)
    }), { numRuns: 150 })
  })
})
