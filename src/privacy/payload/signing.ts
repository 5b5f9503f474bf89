/**
 * Signing the manifest by the master site. Signing goes through a small
 * injected interface so the system-wide signed envelope (src/sac/envelope.ts)
 * can replace the default later; the default is Ed25519 (RFC 8032) with
 * node:crypto. What is signed is always
 * 'dm2/manifest/v1' ‖ 0x00 ‖ manifest bytes, so a manifest signature can never
 * be replayed as a signature over anything else the same key signs (the
 * libp2p identity key signs other protocol messages too).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { encode, rfc8949EncodeOptions } from 'cborg'
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, MANIFEST_SIGNING_CONTEXT, MAX_MANIFEST_BYTES } from './constants.js'
import { ManifestDecodeError, ManifestSignatureError, PayloadParameterError } from './errors.js'
import { checkKeys, decodeManifest, decodeStrict, encodeManifest } from './manifest.js'
import type { Manifest } from './manifest.js'
import { PKCS8_PREFIX } from './keys.js'
import { concatBytes, equalBytes, utf8 } from './bytes.js'

export interface ManifestSigner {
  /** Raw public key (32 bytes for Ed25519). */
  readonly publicKey: Uint8Array
  sign: (message: Uint8Array) => Uint8Array | Promise<Uint8Array>
}

export type ManifestVerify = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean | Promise<boolean>

export interface SignedManifest {
  manifest: Manifest
  /** The deterministic CBOR the signature covers (after the context prefix). */
  bytes: Uint8Array
  signature: Uint8Array
}

export interface VerifyManifestOptions {
  /** Trusted public key of the master (from the roster). Default: the key inside `manifest.master`, an Ed25519 peer id. */
  publicKey?: Uint8Array
  /** Refuse a manifest whose `master` is another peer. */
  expectedMaster?: string
  /** Default `ed25519Verify`. */
  verify?: ManifestVerify
}

// RFC 8410 SPKI DER prefix for Ed25519; the raw public key follows.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const ED25519_PKCS8_PREFIX = PKCS8_PREFIX.ed25519

const MANIFEST_CONTEXT = concatBytes(utf8(MANIFEST_SIGNING_CONTEXT), Uint8Array.of(0))

/** context ‖ 0x00 ‖ manifest bytes: what the signer signs. */
export function manifestSigningInput (bytes: Uint8Array): Uint8Array {
  return concatBytes(MANIFEST_CONTEXT, bytes)
}

function edPublicKey (raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

/** Ed25519 signer from a 32-byte seed (RFC 8032 §5.1.5 private key). */
export function ed25519Signer (seed: Uint8Array): ManifestSigner {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new PayloadParameterError('seed', 'Ed25519 private key must be 32 bytes')
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
  const publicKey = new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length))
  return { publicKey, sign: (message) => new Uint8Array(edSign(null, message, key)) }
}

/** A new random Ed25519 key pair, as a seed and its signer. */
export function generateEd25519Signer (): { seed: Uint8Array, signer: ManifestSigner } {
  const { privateKey } = generateKeyPairSync('ed25519')
  const der = privateKey.export({ format: 'der', type: 'pkcs8' })
  const seed = new Uint8Array(der.subarray(ED25519_PKCS8_PREFIX.length))
  return { seed, signer: ed25519Signer(seed) }
}

/** Signs with a libp2p private key (a site's node identity): its signatures verify with `ed25519Verify`. */
export function libp2pSigner (key: PrivateKey): ManifestSigner {
  if (key.type !== 'Ed25519') throw new PayloadParameterError('key', `key type ${key.type}, expected Ed25519`)
  return { publicKey: key.publicKey.raw, sign: async (message) => await key.sign(message) }
}

/** Ed25519 verification with node:crypto; false (never throws) on malformed keys or signatures. */
export const ed25519Verify: ManifestVerify = (message, signature, publicKey) => {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false
  try {
    return edVerify(null, message, edPublicKey(publicKey), signature)
  } catch {
    return false
  }
}

/** The Ed25519 public key inside a peer id (Ed25519 peer ids embed it); throws ManifestSignatureError otherwise. */
export function publicKeyFromPeerId (peerId: string): Uint8Array {
  try {
    const id = peerIdFromString(peerId)
    if (id.type === 'Ed25519') return id.publicKey.raw
  } catch {}
  throw new ManifestSignatureError('master is not an Ed25519 peer id; pass the master public key')
}

/** Encodes (checking it) and signs a manifest. */
export async function signManifest (manifest: Manifest, signer: ManifestSigner): Promise<SignedManifest> {
  const bytes = encodeManifest(manifest)
  const signature = await signer.sign(manifestSigningInput(bytes))
  return { manifest, bytes, signature: new Uint8Array(signature) }
}

function encodeOuter (bytes: Uint8Array, signature: Uint8Array): Uint8Array {
  return encode({ manifest: bytes, signature }, rfc8949EncodeOptions)
}

/** The two fields of the wire form, each checked to be bytes (the signature not verified). */
function decodeOuter (encoded: Uint8Array): { bytes: Uint8Array, signature: Uint8Array } {
  const { manifest: bytes, signature } = checkKeys(decodeStrict(encoded, MAX_MANIFEST_BYTES + 256, 'signed manifest'), ['manifest', 'signature'], 'signed manifest')
  if (!(bytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw new ManifestDecodeError('manifest and signature must be bytes')
  return { bytes, signature }
}

/** Wire form: deterministic CBOR { manifest: bytes, signature: bytes }. */
export function encodeSignedManifest (signed: SignedManifest): Uint8Array {
  return encodeOuter(signed.bytes, signed.signature)
}

/**
 * The manifest inside a signed manifest, decoded and its fields checked but
 * its signature NOT verified: only for the site that signed it, reading back
 * its own bytes (everyone else uses verifySignedManifest).
 */
export function decodeOwnSignedManifest (encoded: Uint8Array): Manifest {
  return decodeManifest(decodeOuter(encoded).bytes)
}

/**
 * Decodes a signed manifest, checks its encoding, fields and signature, and
 * returns the manifest. Throws ManifestDecodeError, ManifestInvalidError or
 * ManifestSignatureError. The caller still decides whether `master` is the
 * site it trusts for this file (pass `expectedMaster`).
 */
export async function verifySignedManifest (encoded: Uint8Array, options: VerifyManifestOptions = {}): Promise<Manifest> {
  const { bytes, signature } = decodeOuter(encoded)
  if (!equalBytes(encodeOuter(bytes, signature), encoded)) throw new ManifestDecodeError('signed manifest not in deterministic encoding')
  const verify = options.verify ?? ed25519Verify
  const check = async (publicKey: Uint8Array): Promise<void> => {
    if (!(await verify(manifestSigningInput(bytes), signature, publicKey))) throw new ManifestSignatureError()
  }
  // With a trusted key, authenticate before parsing the manifest itself.
  if (options.publicKey !== undefined) await check(options.publicKey)
  const manifest = decodeManifest(bytes)
  if (options.expectedMaster !== undefined && manifest.master !== options.expectedMaster) {
    throw new ManifestSignatureError('signed by another master than expected')
  }
  if (options.publicKey === undefined) await check(publicKeyFromPeerId(manifest.master))
  return manifest
}
