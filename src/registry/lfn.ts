/**
 * Logical file names. One DICOM series is one LFN: an opaque, stable id
 * derived from the SeriesInstanceUID by a keyed hash (HMAC-SHA-256, RFC 2104)
 * under a secret of the master site. Without the secret the UID cannot be
 * confirmed from the LFN, so the LFN can travel the federation freely
 * (no plaintext hash exposed; DESIGN.md "Data model").
 */
import { createHmac, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { base32 } from 'multiformats/bases/base32'
import { INSTANCE_CONTEXT, INSTANCE_KEY_BYTES, LFN_BYTES, LFN_CONTEXT, SITE_SECRET_BYTES } from './constants.js'
import { SiteSecretError } from './errors.js'

function keyed (secret: Uint8Array, context: string, value: string, bytes: number): Uint8Array {
  return createHmac('sha256', secret).update(context).update('\0').update(value, 'utf8').digest().subarray(0, bytes)
}

/** The LFN of a series: 32 lower-case base32 characters (RFC 4648, no padding). */
export function lfnOf (secret: Uint8Array, seriesInstanceUid: string): string {
  return base32.baseEncode(keyed(secret, LFN_CONTEXT, seriesInstanceUid, LFN_BYTES))
}

/** The key of an instance within its series (file name in the slice store): 32 hex characters. */
export function instanceKeyOf (secret: Uint8Array, sopInstanceUid: string): string {
  return Buffer.from(keyed(secret, INSTANCE_CONTEXT, sopInstanceUid, INSTANCE_KEY_BYTES)).toString('hex')
}

const LFN_RE = new RegExp(`^[a-z2-7]{${Math.ceil(LFN_BYTES * 8 / 5)}}$`)

export function isLfn (value: string): boolean {
  return LFN_RE.test(value)
}

/** Reads the site secret, or creates it (mode 0600) when the file does not exist. */
export async function loadOrCreateSiteSecret (path: string): Promise<Uint8Array> {
  try {
    const bytes = await readFile(path)
    if (bytes.length !== SITE_SECRET_BYTES) throw new SiteSecretError(path, `must hold ${SITE_SECRET_BYTES} bytes, has ${bytes.length}`)
    return new Uint8Array(bytes)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof SiteSecretError) throw err
      throw new SiteSecretError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  const secret = new Uint8Array(randomBytes(SITE_SECRET_BYTES))
  try {
    await writeFile(path, secret, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return await loadOrCreateSiteSecret(path)
    throw new SiteSecretError(path, `cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  return secret
}
