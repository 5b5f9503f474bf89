/**
 * User key files: one Ed25519 seed (RFC 8032 §5.1.5) per JSON file, mode
 * 0600 in a 0700 folder, several per person — each key is a pseudonym, and
 * nothing links two keys of the same holder but the holder's own folder.
 *
 *   `<dir>/<label>.json` = { format: 'dm2-key', version: 1, label, publicKey: hex, seed: base64, created: ISO }
 *
 * Creation is atomic and never overwrites: the file is written and synced
 * under a temporary name created 0600 from the start, then hard-linked to its
 * final name (which fails if that exists), so a crash leaves either no key or
 * a whole one. Loading refuses a file that anyone but its owner can read or
 * write (as OpenSSH does for identity files), or that does not match its own
 * public key.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { link, mkdir, open, readdir, unlink } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { generateSigner, keyId, signerFromSeed } from './ed25519.js'
import type { SeededSigner } from './ed25519.js'

export const KEY_FILE_FORMAT = 'dm2-key'
export const KEY_FILE_MODE = 0o600
export const KEY_DIR_MODE = 0o700
/** Labels name files: no separators, no leading dot. */
export const KEY_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** A key file is a few hundred bytes; anything larger is not one. */
const MAX_KEY_FILE_BYTES = 4096

/** A key file that is missing, malformed, or exposed to other accounts. */
export class KeyFileError extends Error {
  static override name = 'KeyFileError'

  constructor (message: string) {
    super(message)
    this.name = 'KeyFileError'
  }
}

/** A key file readable or writable by group or others: refused, never used. */
export class InsecureKeyFileError extends Error {
  static override name = 'InsecureKeyFileError'

  constructor (path: string, mode: number) {
    super(`${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`)
    this.name = 'InsecureKeyFileError'
  }
}

export interface KeyInfo {
  label: string
  /** Hex of the raw public key. */
  publicKey: string
  created: string
  path: string
}

export interface KeyFile extends KeyInfo {
  signer: SeededSigner
}

export function keyFilePath (dir: string, label: string): string {
  if (!KEY_LABEL.test(label)) throw new KeyFileError(`invalid key label ${JSON.stringify(label.slice(0, 64))}: letters, digits, . _ - (at most 64)`)
  return join(dir, `${label}.json`)
}

/** Creates a new key file (a fresh key unless `signer` is given). Throws KeyFileError if the label is taken. */
export async function createKeyFile (dir: string, options: { label?: string, signer?: SeededSigner, now?: Date } = {}): Promise<KeyFile> {
  const signer = options.signer ?? generateSigner()
  const publicKey = keyId(signer.publicKey)
  const label = options.label ?? `key-${publicKey.slice(0, 12)}`
  const path = keyFilePath(dir, label)
  const created = (options.now ?? new Date()).toISOString()
  const text = JSON.stringify({ format: KEY_FILE_FORMAT, version: 1, label, publicKey, seed: Buffer.from(signer.seed).toString('base64'), created }, null, 2) + '\n'
  await mkdir(dir, { recursive: true, mode: KEY_DIR_MODE })
  const temp = join(dir, `.${label}.${randomBytes(6).toString('hex')}.tmp`)
  // O_EXCL with mode 0600: the seed never sits in a file others could open.
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, KEY_FILE_MODE)
  try {
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await link(temp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileError(`a key labelled ${label} already exists in ${dir}`)
    throw err
  } finally {
    await unlink(temp).catch(() => {})
  }
  await syncDir(dir)
  return { label, publicKey, created, path, signer }
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch {
    // Some filesystems cannot fsync a directory; the link is then as durable as they make it.
  } finally {
    await handle.close()
  }
}

function parseKeyFile (text: string, path: string): KeyFile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new KeyFileError(`${path} is not JSON`)
  }
  const o = value as Record<string, unknown>
  if (value === null || typeof value !== 'object' || o.format !== KEY_FILE_FORMAT || o.version !== 1) throw new KeyFileError(`${path} is not a ${KEY_FILE_FORMAT} v1 file`)
  if (typeof o.label !== 'string' || !KEY_LABEL.test(o.label)) throw new KeyFileError(`${path}: bad label`)
  if (typeof o.created !== 'string' || o.created.length > 64) throw new KeyFileError(`${path}: bad creation time`)
  if (typeof o.seed !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(o.seed)) throw new KeyFileError(`${path}: the seed must be 32 bytes of base64`)
  const signer = signerFromSeed(Uint8Array.from(Buffer.from(o.seed, 'base64')))
  const publicKey = keyId(signer.publicKey)
  if (o.publicKey !== publicKey) throw new KeyFileError(`${path}: the public key does not match the seed`)
  return { label: o.label, publicKey, created: o.created, path, signer }
}

/** Loads a key file, refusing one that group or others can access. */
export async function loadKeyFile (path: string): Promise<KeyFile> {
  let handle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new KeyFileError(`no key file ${path}`)
    if (code === 'ELOOP') throw new KeyFileError(`${path} is a symbolic link; key files must be regular files`)
    throw err
  }
  try {
    // Checked on the open descriptor: the file cannot be swapped between check and read.
    const stats = await handle.stat()
    if (!stats.isFile()) throw new KeyFileError(`${path} is not a regular file`)
    if ((stats.mode & 0o077) !== 0) throw new InsecureKeyFileError(path, stats.mode)
    const uid = process.getuid?.()
    if (uid !== undefined && stats.uid !== uid) throw new KeyFileError(`${path} belongs to another user`)
    if (stats.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(`${path} is too large to be a key file`)
    return parseKeyFile(await handle.readFile('utf8'), path)
  } finally {
    await handle.close()
  }
}

/** The keys in a folder (no seeds), sorted by label; files that fail to load are reported in `problems`. */
export async function listKeyFiles (dir: string): Promise<{ keys: KeyInfo[], problems: Array<{ path: string, error: string }> }> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [], problems: [] }
    throw err
  }
  const keys: KeyInfo[] = []
  const problems: Array<{ path: string, error: string }> = []
  for (const name of names.filter(n => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const path = join(dir, name)
    try {
      const { label, publicKey, created } = await loadKeyFile(path)
      keys.push({ label, publicKey, created, path })
    } catch (err) {
      problems.push({ path, error: (err as Error).message })
    }
  }
  return { keys: keys.sort((a, b) => a.label < b.label ? -1 : a.label > b.label ? 1 : 0), problems }
}

/**
 * Finds a key: a path to a file (anything with a slash or ending in .json),
 * else a label in `dir`, else a unique public-key prefix (≥ 8 hex digits) in `dir`.
 */
export async function resolveKeyFile (dir: string, ref: string): Promise<KeyFile> {
  if (ref.includes('/') || ref.endsWith('.json') || isAbsolute(ref)) return await loadKeyFile(resolve(ref))
  if (KEY_LABEL.test(ref)) {
    try {
      return await loadKeyFile(keyFilePath(dir, ref))
    } catch (err) {
      if (!(err instanceof KeyFileError) || !/^no key file/.test(err.message)) throw err
    }
  }
  if (/^[0-9a-f]{8,64}$/.test(ref)) {
    const matches = (await listKeyFiles(dir)).keys.filter(k => k.publicKey.startsWith(ref))
    if (matches.length > 1) throw new KeyFileError(`${ref} matches ${matches.length} keys in ${dir}`)
    const only = matches[0]
    if (only !== undefined) return await loadKeyFile(only.path)
  }
  throw new KeyFileError(`no key ${JSON.stringify(ref)} in ${dir}`)
}
