/**
 * Wrapping a data key for one recipient with HPKE (RFC 9180), base mode,
 * DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (suite ids 0x0020,
 * 0x0001, 0x0002), single-shot (RFC 9180 §6.1). `info` (§5.1) binds the file
 * id, version and the recipient's public key, so a wrapped key opens only
 * with that recipient's private key and only for that file version.
 * Wire form: enc (32 bytes) ‖ ciphertext (32-byte key + 16-byte tag).
 */
import { createHash } from 'node:crypto'
// @hpke/core's X25519 KEM runs on WebCrypto (node:crypto): about twice as fast as a pure-JS curve.
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'
import { DATA_KEY_BYTES, KEY_WRAP_LABEL, WRAPPED_KEY_BYTES, X25519_KEY_BYTES } from './constants.js'
import { KeyUnwrapError, KeyWrapError, PayloadParameterError } from './errors.js'
import { checkFileId, checkVersion } from './layout.js'
import { recipientPublicKey } from './keys.js'
import { concatBytes, utf8 } from './bytes.js'

/** The file version a wrapped key is for. */
export interface WrapContext {
  fileId: string
  version: number
}

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() })

/**
 * label ‖ 0x00 ‖ SHA-256(uint16be(len) ‖ file id ‖ uint64be(version) ‖ recipient public key).
 * Hashed because @hpke/core caps `info` at 128 bytes and file ids may be 256.
 */
function wrapInfo (context: WrapContext, recipient: Uint8Array): Uint8Array {
  checkFileId(context.fileId)
  checkVersion(context.version)
  const id = utf8(context.fileId)
  const fixed = Buffer.alloc(2 + id.length + 8)
  fixed.writeUInt16BE(id.length, 0)
  fixed.set(id, 2)
  fixed.writeBigUInt64BE(BigInt(context.version), 2 + id.length)
  const digest = createHash('sha256').update(fixed).update(recipient).digest()
  return concatBytes(utf8(KEY_WRAP_LABEL), Uint8Array.of(0), digest)
}

/** Wraps `dataKey` to the recipient's X25519 public key for one file version. */
export async function wrapDataKey (dataKey: Uint8Array, recipientPublic: Uint8Array, context: WrapContext): Promise<Uint8Array> {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) throw new PayloadParameterError('dataKey', `must be ${DATA_KEY_BYTES} bytes`)
  if (!(recipientPublic instanceof Uint8Array) || recipientPublic.length !== X25519_KEY_BYTES) throw new KeyWrapError('recipient public key must be 32 bytes')
  const info = wrapInfo(context, recipientPublic)
  let sealed
  try {
    const recipientPublicKey = await suite.kem.deserializePublicKey(new Uint8Array(recipientPublic))
    sealed = await suite.seal({ recipientPublicKey, info }, dataKey)
  } catch {
    throw new KeyWrapError('recipient public key rejected')
  }
  return concatBytes(new Uint8Array(sealed.enc), new Uint8Array(sealed.ct))
}

/** Opens a wrapped key with the recipient's X25519 private key; throws KeyUnwrapError on any mismatch. */
export async function unwrapDataKey (wrapped: Uint8Array, recipientPrivate: Uint8Array, context: WrapContext): Promise<Uint8Array> {
  if (!(wrapped instanceof Uint8Array) || wrapped.length !== WRAPPED_KEY_BYTES) throw new KeyUnwrapError(`wrapped key must be ${WRAPPED_KEY_BYTES} bytes`)
  if (!(recipientPrivate instanceof Uint8Array) || recipientPrivate.length !== X25519_KEY_BYTES) throw new KeyUnwrapError('private key must be 32 bytes')
  const info = wrapInfo(context, recipientPublicKey(recipientPrivate))
  let key: ArrayBuffer
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(new Uint8Array(recipientPrivate))
    key = await suite.open({ recipientKey, enc: wrapped.slice(0, X25519_KEY_BYTES), info }, wrapped.slice(X25519_KEY_BYTES))
  } catch {
    throw new KeyUnwrapError()
  }
  if (key.byteLength !== DATA_KEY_BYTES) throw new KeyUnwrapError('wrapped value is not a data key')
  return new Uint8Array(key)
}
