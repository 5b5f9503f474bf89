/**
 * Wrapping a data key for one recipient with HPKE (RFC 9180), base mode,
 * DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (suite ids 0x0020,
 * 0x0001, 0x0002), single-shot (RFC 9180 §6.1). `info` (§5.1) binds the file
 * id, version and the recipient's public key, so a wrapped key opens only
 * with that recipient's private key and only for that file version.
 * Wire form: enc (32 bytes) ‖ ciphertext (32-byte key + 16-byte tag).
 * The HPKE steps run on a worker thread (hpke-worker.ts says why).
 */
import { createHash } from 'node:crypto'
// @hpke/core's X25519 KEM runs on WebCrypto (node:crypto): about twice as fast as a pure-JS curve.
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'
import { DATA_KEY_BYTES, KEY_WRAP_LABEL, WRAPPED_KEY_BYTES, X25519_KEY_BYTES } from './constants.js'
import { KeyUnwrapError, KeyWrapError, PayloadParameterError } from './errors.js'
import { sharedHpkeWorker } from './hpke-worker.js'
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

/**
 * HPKE on the worker thread (hpke-worker.ts), or on this one if the worker
 * cannot run (it failed, or a runtime without worker threads): the same
 * suite either way, so the bytes are the same.
 */
async function sealed (recipientPublic: Uint8Array, info: Uint8Array, plaintext: Uint8Array): Promise<{ enc: Uint8Array, ct: Uint8Array }> {
  const reply = await sharedHpkeWorker().run({ op: 'seal', key: recipientPublic, info, plaintext }).catch(() => undefined)
  if (reply !== undefined) {
    if (reply.enc === undefined || reply.ct === undefined) throw new KeyWrapError('recipient public key rejected')
    return { enc: reply.enc, ct: reply.ct }
  }
  try {
    const recipientPublicKey = await suite.kem.deserializePublicKey(new Uint8Array(recipientPublic))
    const out = await suite.seal({ recipientPublicKey, info }, plaintext)
    return { enc: new Uint8Array(out.enc), ct: new Uint8Array(out.ct) }
  } catch {
    throw new KeyWrapError('recipient public key rejected')
  }
}

async function opened (recipientPrivate: Uint8Array, info: Uint8Array, enc: Uint8Array, ct: Uint8Array): Promise<Uint8Array> {
  const reply = await sharedHpkeWorker().run({ op: 'open', key: recipientPrivate, info, enc, ct }).catch(() => undefined)
  if (reply !== undefined) {
    if (reply.plaintext === undefined) throw new KeyUnwrapError()
    return reply.plaintext
  }
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(new Uint8Array(recipientPrivate))
    return new Uint8Array(await suite.open({ recipientKey, enc, info }, ct))
  } catch {
    throw new KeyUnwrapError()
  }
}

/** Wraps `dataKey` to the recipient's X25519 public key for one file version. */
export async function wrapDataKey (dataKey: Uint8Array, recipientPublic: Uint8Array, context: WrapContext): Promise<Uint8Array> {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) throw new PayloadParameterError('dataKey', `must be ${DATA_KEY_BYTES} bytes`)
  if (!(recipientPublic instanceof Uint8Array) || recipientPublic.length !== X25519_KEY_BYTES) throw new KeyWrapError('recipient public key must be 32 bytes')
  const info = wrapInfo(context, recipientPublic)
  const { enc, ct } = await sealed(recipientPublic, info, dataKey)
  return concatBytes(enc, ct)
}

/** Opens a wrapped key with the recipient's X25519 private key; throws KeyUnwrapError on any mismatch. */
export async function unwrapDataKey (wrapped: Uint8Array, recipientPrivate: Uint8Array, context: WrapContext): Promise<Uint8Array> {
  if (!(wrapped instanceof Uint8Array) || wrapped.length !== WRAPPED_KEY_BYTES) throw new KeyUnwrapError(`wrapped key must be ${WRAPPED_KEY_BYTES} bytes`)
  if (!(recipientPrivate instanceof Uint8Array) || recipientPrivate.length !== X25519_KEY_BYTES) throw new KeyUnwrapError('private key must be 32 bytes')
  const info = wrapInfo(context, recipientPublicKey(recipientPrivate))
  const key = await opened(recipientPrivate, info, wrapped.slice(0, X25519_KEY_BYTES), wrapped.slice(X25519_KEY_BYTES))
  if (key.byteLength !== DATA_KEY_BYTES) throw new KeyUnwrapError('wrapped value is not a data key')
  return key
}
