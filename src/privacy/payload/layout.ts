/**
 * The layout of one sealed payload: which file and version it is, how the
 * plaintext is cut into chunks, and the random HKDF salt of this sealing.
 * Pure functions; the manifest carries these same fields.
 */
import { randomBytes } from 'node:crypto'
import {
  DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_FILE_ID_BYTES, MIN_CHUNK_SIZE, SALT_BYTES, TAG_BYTES
} from './constants.js'
import { PayloadParameterError } from './errors.js'
import { utf8 } from './bytes.js'

export interface PayloadLayout {
  /** The LFN: opaque, no patient data. */
  fileId: string
  /** Master version of the file; a new version gets a new chunk key. */
  version: number
  /** Plaintext bytes per chunk (the last chunk may be shorter). */
  chunkSize: number
  /** Plaintext bytes in the whole payload. */
  totalSize: number
  /** Random per sealing, so sealing the same version twice never reuses a key and nonce. */
  salt: Uint8Array
}

export interface LayoutOptions {
  fileId: string
  version: number
  totalSize: number
  /** Default `DEFAULT_CHUNK_SIZE` (1 MiB). */
  chunkSize?: number
}

/** Reports a bad field; throws the error type of the caller's context. */
export type Fail = (field: string, problem: string) => never

const failParameter: Fail = (field, problem) => { throw new PayloadParameterError(field, problem) }

function checkInteger (value: unknown, field: string, min: number, max: number, fail: Fail): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(field, `must be an integer in [${min}, ${max}]`)
  }
}

/** Checks a file id: a non-empty string of at most MAX_FILE_ID_BYTES UTF-8 bytes, no NUL. */
export function checkFileId (fileId: unknown, fail: Fail = failParameter): void {
  if (typeof fileId !== 'string' || fileId.length === 0) fail('fileId', 'must be a non-empty string')
  if (utf8(fileId as string).length > MAX_FILE_ID_BYTES) fail('fileId', `longer than ${MAX_FILE_ID_BYTES} bytes`)
  if ((fileId as string).includes('\u0000')) fail('fileId', 'contains NUL')
}

export function checkVersion (version: unknown, fail: Fail = failParameter): void {
  checkInteger(version, 'version', 0, Number.MAX_SAFE_INTEGER, fail)
}

/** Checks every layout field and their consistency (chunk count within MAX_CHUNKS). */
export function checkLayout (layout: PayloadLayout, fail: Fail = failParameter): void {
  checkFileId(layout.fileId, fail)
  checkVersion(layout.version, fail)
  checkInteger(layout.chunkSize, 'chunkSize', MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, fail)
  checkInteger(layout.totalSize, 'totalSize', 0, Number.MAX_SAFE_INTEGER, fail)
  if (Math.ceil(layout.totalSize / layout.chunkSize) > MAX_CHUNKS) {
    fail('totalSize', `needs more than ${MAX_CHUNKS} chunks of ${layout.chunkSize} bytes`)
  }
  if (!(layout.salt instanceof Uint8Array) || layout.salt.length !== SALT_BYTES) fail('salt', `must be ${SALT_BYTES} bytes`)
}

/** A new layout with a fresh random salt. */
export function newLayout (options: LayoutOptions): PayloadLayout {
  const layout: PayloadLayout = {
    fileId: options.fileId,
    version: options.version,
    chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    totalSize: options.totalSize,
    salt: new Uint8Array(randomBytes(SALT_BYTES))
  }
  checkLayout(layout)
  return layout
}

/**
 * Number of chunks. An empty payload still has one (empty) chunk, sealed as
 * the last one, so that "no chunks at all" is a truncation, not a payload.
 */
export function chunkCount (layout: Pick<PayloadLayout, 'chunkSize' | 'totalSize'>): number {
  return layout.totalSize === 0 ? 1 : Math.ceil(layout.totalSize / layout.chunkSize)
}

/** Plaintext length of chunk `index`. */
export function plainChunkSize (layout: Pick<PayloadLayout, 'chunkSize' | 'totalSize'>, index: number): number {
  return Math.max(0, Math.min(layout.chunkSize, layout.totalSize - index * layout.chunkSize))
}

/** Sealed length of chunk `index`: plaintext plus the 16-byte GCM tag. */
export function sealedChunkSize (layout: Pick<PayloadLayout, 'chunkSize' | 'totalSize'>, index: number): number {
  return plainChunkSize(layout, index) + TAG_BYTES
}
