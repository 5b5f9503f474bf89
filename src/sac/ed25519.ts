/**
 * Ed25519 with one strict verification rule, the same on every node.
 *
 * Implementations disagree on edge cases (Chalkias, Garillot, Nikolaenko,
 * "Taming the many EdDSAs", SSR 2020): whether S ≥ L, non-canonical point
 * encodings and small-order keys are accepted, and whether the cofactored or
 * cofactorless equation is used. A certificate that verifies on one hospital
 * and not on another would split decisions, so the rule is pinned here:
 *
 * 1. signature 64 bytes, key 32 bytes;
 * 2. S < L (RFC 8032 §5.1.7 step 1; rejects S+L malleation);
 * 3. A and R canonical: y < p, and no sign bit on x = 0 (RFC 8032 §5.1.3);
 * 4. A is not one of the 8 small-order points (under which anything verifies);
 * 5. the cofactorless equation [S]B = R + [k]A, compared as canonical R bytes.
 *
 * Checks 1–4 are byte comparisons done here; check 5 is node:crypto (OpenSSL,
 * fast). `checkSignatureReference` computes step 5 with @noble/ed25519's point
 * arithmetic instead, for runtimes without node:crypto; the tests show both
 * give the same answer on every vector. (@noble's own `verify` uses the
 * cofactored equation, so after 1–4 it still differs on signatures whose R or A
 * carries a torsion component — which only the key's holder can produce.)
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import * as ed from '@noble/ed25519'
import { LRUCache } from 'lru-cache'
import { DEFAULT_KEY_CACHE_SIZE, KEY_BYTES, SIGNATURE_BYTES } from './constants.js'

// @noble/ed25519 v3 ships without a hash; wire node's SHA-512 once (its README, "Enabling synchronous methods").
function sha512 (message: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha512').update(message).digest())
}
if (ed.hashes.sha512 === undefined) ed.hashes.sha512 = sha512

/** Outcome of the strict rule: accepted, or the reason code it maps to. */
export type SignatureCheck = 'ok' | 'NON_CANONICAL' | 'WEAK_KEY' | 'BAD_SIGNATURE'

/** Something that signs with an Ed25519 key: a key file, a node identity, an HSM. */
export interface Signer {
  /** Raw 32-byte Ed25519 public key (RFC 8032 §5.1.5). */
  readonly publicKey: Uint8Array
  sign: (message: Uint8Array) => Uint8Array
}

/** A signer that also exposes its 32-byte seed (to be written to a 0600 key file). */
export interface SeededSigner extends Signer {
  readonly seed: Uint8Array
}

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))

/** L, the prime order of the base point, little-endian (RFC 8032 §5.1). */
const L_LE = hex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010')
/** p = 2^255 − 19, little-endian. */
const P_LE = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')

/** Canonical encodings of the 8 points of order dividing 8 (cross-checked with @noble in the tests). */
export const SMALL_ORDER_KEYS: readonly string[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa' // order 8
]
const smallOrder = new Set(SMALL_ORDER_KEYS)
const SMALL_ORDER_FIRST = new Set(SMALL_ORDER_KEYS.map(h => parseInt(h.slice(0, 2), 16)))
/** x = 0 happens only for y = ±1; with the sign bit set those encodings are non-canonical. */
const NEGATIVE_ZERO_X = new Set([
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
])

/** Little-endian a < b over 32 bytes, `a` read from `offset`; `mask` applies to the top byte of a (0x7f drops the sign bit). */
function lessThan (a: Uint8Array, offset: number, b: Uint8Array, mask: number): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = i === 31 ? (a[offset + i] as number) & mask : a[offset + i] as number
    const y = b[i] as number
    if (x !== y) return x < y
  }
  return false
}

function hexOf (bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('hex')
}

/** RFC 8032 §5.1.3: y < p and no "negative zero" x. Reads 32 bytes at `offset`. */
function isCanonicalPoint (bytes: Uint8Array, offset: number): boolean {
  if (!lessThan(bytes, offset, P_LE, 0x7f)) return false
  const last = bytes[offset + 31] as number
  if ((last & 0x80) === 0) return true
  // Only y = 1 (01 00…) and y = p − 1 (ec ff…) have x = 0.
  const first = bytes[offset] as number
  return (first !== 0x01 && first !== 0xec) || !NEGATIVE_ZERO_X.has(hexOf(bytes, offset, 32))
}

/** Steps 1–4 of the rule for a public key alone. */
export function checkPublicKey (publicKey: Uint8Array): 'ok' | 'MALFORMED' | 'NON_CANONICAL' | 'WEAK_KEY' {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return 'MALFORMED'
  if (!isCanonicalPoint(publicKey, 0)) return 'NON_CANONICAL'
  // Every small-order encoding starts with one of these bytes: skip the lookup for the rest.
  if (SMALL_ORDER_FIRST.has(publicKey[0] as number) && smallOrder.has(hexOf(publicKey))) return 'WEAK_KEY'
  return 'ok'
}

/** Steps 1–4 for a signature under a key; 'ok' means only the equation remains. */
function precheck (signature: Uint8Array, publicKey: Uint8Array): SignatureCheck {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return 'BAD_SIGNATURE'
  const key = checkPublicKey(publicKey)
  if (key === 'MALFORMED') return 'BAD_SIGNATURE'
  if (key !== 'ok') return key
  if (!lessThan(signature, 32, L_LE, 0xff)) return 'NON_CANONICAL'
  if (!isCanonicalPoint(signature, 0)) return 'NON_CANONICAL'
  return 'ok'
}

const keyObjects = new LRUCache<string, KeyObject>({ max: DEFAULT_KEY_CACHE_SIZE })

/** node:crypto KeyObject for a raw key. JWK import is ~10× faster than SPKI DER here. */
function keyObjectOf (publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('base64url')
  let key = keyObjects.get(x)
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
    keyObjects.set(x, key)
  }
  return key
}

/** Forgets imported keys (benchmarks measure the import cost with it). */
export function clearKeyCache (): void {
  keyObjects.clear()
}

/** The strict rule, with node:crypto for the equation. Never throws. */
export function checkSignature (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): SignatureCheck {
  const pre = precheck(signature, publicKey)
  if (pre !== 'ok') return pre
  try {
    return nodeVerify(null, message, keyObjectOf(publicKey), signature) ? 'ok' : 'BAD_SIGNATURE'
  } catch {
    // e.g. a key that is not a curve point at all
    return 'BAD_SIGNATURE'
  }
}

/** `checkSignature(...) === 'ok'`. */
export function verifySignature (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return checkSignature(signature, message, publicKey) === 'ok'
}

function numberLE (bytes: Uint8Array): bigint {
  return BigInt('0x' + (Buffer.from(bytes).reverse().toString('hex') || '0'))
}

const L = ed.Point.CURVE().n

/**
 * The same rule with @noble/ed25519's point arithmetic for step 5 (cofactorless,
 * like OpenSSL): R must equal the canonical encoding of [S]B − [k]A.
 */
export function checkSignatureReference (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): SignatureCheck {
  const pre = precheck(signature, publicKey)
  if (pre !== 'ok') return pre
  let A: ed.Point
  try {
    A = ed.Point.fromBytes(publicKey, false)
  } catch {
    return 'BAD_SIGNATURE'
  }
  const R = signature.subarray(0, 32)
  const S = numberLE(signature.subarray(32, 64))
  const k = ed.etc.mod(numberLE(sha512(ed.etc.concatBytes(R, publicKey, message))), L)
  const expected = ed.Point.BASE.multiply(S, false).subtract(A.multiply(k, false)).toBytes()
  return Buffer.from(expected).equals(Buffer.from(R)) ? 'ok' : 'BAD_SIGNATURE'
}

const PKCS8_ED25519_PREFIX = hex('302e020100300506032b657004220420')

function rawPublicKey (key: KeyObject): Uint8Array {
  const x = key.export({ format: 'jwk' }).x
  if (typeof x !== 'string') throw new Error('Ed25519 key without x')
  return Uint8Array.from(Buffer.from(x, 'base64url'))
}

/** A node:crypto signer from a 32-byte RFC 8032 seed. */
export function signerFromSeed (seed: Uint8Array): SeededSigner {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes')
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const publicKey = rawPublicKey(createPublicKey(privateKey))
  return {
    seed: Uint8Array.from(seed),
    publicKey,
    sign: (message: Uint8Array): Uint8Array => new Uint8Array(nodeSign(null, message, privateKey))
  }
}

/** A fresh random key. */
export function generateSigner (): SeededSigner {
  const { privateKey } = generateKeyPairSync('ed25519')
  const d = privateKey.export({ format: 'jwk' }).d
  if (typeof d !== 'string') throw new Error('Ed25519 key without d')
  return signerFromSeed(Uint8Array.from(Buffer.from(d, 'base64url')))
}

/** A pure-JS signer (@noble/ed25519), e.g. for a browser portal; same signatures as node's (RFC 8032 is deterministic). */
export function nobleSignerFromSeed (seed: Uint8Array): SeededSigner {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes')
  const secret = Uint8Array.from(seed)
  return {
    seed: secret,
    publicKey: ed.getPublicKey(secret),
    sign: (message: Uint8Array): Uint8Array => ed.sign(message, secret)
  }
}

/** Printable id of a key in logs and decisions: lowercase hex of the raw key (keys are pseudonymous). */
export function keyId (publicKey: Uint8Array): string {
  return hexOf(publicKey)
}
