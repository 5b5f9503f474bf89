/**
 * Key generation and key files. Private keys are written as PKCS#8 PEM
 * (RFC 5208, RFC 8410 for X25519/Ed25519, readable by `openssl pkey`), mode
 * 0600, atomically, never over an existing file; a key file that group or
 * others can read is refused, as ssh refuses such keys.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { X25519_KEY_BYTES } from './constants.js'
import { KeyFileError, PayloadParameterError } from './errors.js'

export type KeyType = 'x25519' | 'ed25519'

/** A recipient's HPKE key pair: raw 32-byte X25519 keys (RFC 7748). */
export interface RecipientKeyPair {
  publicKey: Uint8Array
  privateKey: Uint8Array
}

// RFC 8410 DER prefixes (PKCS#8 private, SPKI public); the raw key follows.
export const PKCS8_PREFIX: Record<KeyType, Buffer> = {
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex')
}
export const SPKI_PREFIX_BYTES = 12

function rawPrivate (der: Buffer, type: KeyType): Uint8Array {
  const prefix = PKCS8_PREFIX[type]
  if (der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) throw new PayloadParameterError('key', `not a raw ${type} PKCS#8 key`)
  return new Uint8Array(der.subarray(prefix.length))
}

/** A new random X25519 key pair for receiving wrapped data keys. */
export function generateRecipientKeyPair (): RecipientKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const raw = rawPrivate(privateKey.export({ format: 'der', type: 'pkcs8' }), 'x25519')
  // The pair's own public half: re-importing the private key to derive it costs more than the generation.
  return { privateKey: raw, publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_BYTES)) }
}

/** The X25519 public key of a raw private key. */
export function recipientPublicKey (privateKey: Uint8Array): Uint8Array {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== X25519_KEY_BYTES) throw new PayloadParameterError('privateKey', 'X25519 private key must be 32 bytes')
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX.x25519, privateKey]), format: 'der', type: 'pkcs8' })
  return new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_BYTES))
}

/** Writes a raw 32-byte private key as PKCS#8 PEM, mode 0600, atomically; refuses to replace a file. */
export async function writePrivateKeyFile (file: string, privateKey: Uint8Array, type: KeyType): Promise<void> {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) throw new PayloadParameterError('privateKey', 'must be 32 bytes')
  const pem = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[type], privateKey]), format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(pem)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    // link() fails with EEXIST instead of replacing an existing key.
    await link(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileError(file, 'already exists')
    throw err
  } finally {
    await rm(tmp, { force: true })
  }
}

/** Reads a private key file written by `writePrivateKeyFile`; returns the raw 32-byte key. */
export async function readPrivateKeyFile (file: string, type: KeyType): Promise<Uint8Array> {
  let info
  try {
    info = await stat(file)
  } catch (err) {
    throw new KeyFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  if (!info.isFile()) throw new KeyFileError(file, 'not a regular file')
  if (info.size > 4096) throw new KeyFileError(file, 'too large for a key file')
  if ((info.mode & 0o077) !== 0) throw new KeyFileError(file, `permissions ${(info.mode & 0o777).toString(8)} are too open; chmod 600 it`)
  try {
    const key = createPrivateKey({ key: await readFile(file), format: 'pem' })
    if (key.asymmetricKeyType !== type) throw new Error('type')
    return rawPrivate(key.export({ format: 'der', type: 'pkcs8' }), type)
  } catch {
    throw new KeyFileError(file, `not a PKCS#8 ${type} private key`)
  }
}
