/**
 * The node's persistent libp2p identity: an Ed25519 private key, protobuf
 * encoded as libp2p does, in one file readable by its owner only (0600).
 * Created atomically on first start (temp file, fsync, hard link); a file that
 * group or others can read is refused, as ssh refuses such keys.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { IdentityError } from './errors.js'

export interface Identity {
  privateKey: PrivateKey
  peerId: PeerId
  /** True when this call created the key. */
  created: boolean
}

/** Writes `data` to `file` with mode 0600, atomically; false if the file already exists (never replaced). */
async function writeSecretFile (file: string, data: Uint8Array): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    // link() fails with EEXIST instead of replacing: two nodes started on one
    // data directory at once cannot overwrite each other's key.
    await link(tmp, file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await rm(tmp, { force: true })
  }
}

/** Reads the identity in `file`. Throws `IdentityError` if it is unusable. */
export async function readIdentity (file: string): Promise<Identity> {
  let info
  try {
    info = await stat(file)
  } catch (err) {
    throw new IdentityError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  if (!info.isFile()) throw new IdentityError(file, 'not a regular file')
  if ((info.mode & 0o077) !== 0) {
    throw new IdentityError(file, `permissions ${(info.mode & 0o777).toString(8)} are too open; chmod 600 it`)
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(await readFile(file))
  } catch {
    throw new IdentityError(file, 'not a valid libp2p private key')
  }
  if (privateKey.type !== 'Ed25519') throw new IdentityError(file, `key type ${privateKey.type}, expected Ed25519`)
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey), created: false }
}

/** Loads the identity in `file`, creating a new Ed25519 key there if there is none. */
export async function loadOrCreateIdentity (file: string): Promise<Identity> {
  try {
    await stat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new IdentityError(file, 'cannot read')
    const privateKey = await generateKeyPair('Ed25519')
    const written = await writeSecretFile(file, privateKeyToProtobuf(privateKey))
    // Another process created it first: everyone uses the one on disk.
    if (!written) return await readIdentity(file)
    return { privateKey, peerId: peerIdFromPrivateKey(privateKey), created: true }
  }
  return await readIdentity(file)
}
