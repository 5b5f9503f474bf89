/**
 * The site's de-identification secret on disk (I/O): 32 random bytes written as hex, mode 0600.
 * Whoever holds it can recompute the UID mapping and date shifts from original values, so it
 * stays on the site, like its node identity.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { MIN_SECRET_BYTES, SECRET_BYTES } from './constants.js'
import { DeidSecretError } from './errors.js'

/** Parse a secret file's content: hex text (≥ 64 digits) or at least 32 raw bytes. */
export function parseSecret (content: Uint8Array): Uint8Array {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(content).trim()
  if (/^([0-9a-fA-F]{2}){32,}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'))
  if (content.byteLength >= MIN_SECRET_BYTES && !/^[\x20-\x7e\s]*$/.test(text)) return Uint8Array.from(content)
  throw new DeidSecretError(`the secret file must hold at least ${MIN_SECRET_BYTES} random bytes (e.g. ${MIN_SECRET_BYTES * 2} hex digits)`)
}

export async function readSecretFile (path: string): Promise<Uint8Array> {
  let content: Buffer
  try {
    content = await readFile(path)
  } catch (err) {
    throw new DeidSecretError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  return parseSecret(content)
}

/**
 * Read the secret at `path`, or create it (0600, never overwriting a file that appeared
 * meanwhile) when there is none. `created` tells the caller to warn the operator.
 */
export async function loadOrCreateSecretFile (path: string): Promise<{ secret: Uint8Array, created: boolean }> {
  const fresh = randomBytes(SECRET_BYTES)
  try {
    await writeFile(path, fresh.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
    return { secret: Uint8Array.from(fresh), created: true }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DeidSecretError(`cannot create ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  return { secret: await readSecretFile(path), created: false }
}
