/**
 * The payload manifest: which chunks make a file version, and its content id
 * (the Merkle root over the chunk ids). Encoded as deterministic CBOR
 * (RFC 8949 §4.2.1: shortest forms, definite lengths, map keys sorted
 * bytewise) with cborg; decoding is strict and the bytes must re-encode to
 * themselves, so one manifest has exactly one encoding and its signature
 * covers exactly what the reader sees.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import type { DecodeOptions } from 'cborg'
import { HASH_BYTES, MANIFEST_VERSION, MAX_CHUNKS, MAX_LABEL_BYTES, MAX_MANIFEST_BYTES } from './constants.js'
import { ManifestDecodeError, ManifestInvalidError } from './errors.js'
import { checkLayout, chunkCount, sealedChunkSize } from './layout.js'
import type { Fail, PayloadLayout } from './layout.js'
import { merkleRoot } from './merkle.js'
import type { ChunkRef } from './stream.js'
import { equalBytes, utf8 } from './bytes.js'

export interface Manifest extends PayloadLayout {
  /** Manifest format version (MANIFEST_VERSION). */
  v: number
  chunks: ChunkRef[]
  /** RFC 6962 Merkle root over the chunk ids: the content id. */
  merkleRoot: Uint8Array
  /** Id of the de-identification profile the payload went through. */
  deidProfile: string
  /** Milliseconds since the Unix epoch. */
  createdAt: number
  /** Peer id (string form) of the master site that signs the manifest. */
  master: string
}

export interface BuildManifestInit {
  layout: PayloadLayout
  /** In index order, as `Sealer.refs` or `SealedPayload.refs` holds them. */
  chunks: ChunkRef[]
  deidProfile: string
  master: string
  /** Default `Date.now()`. */
  createdAt?: number
}

/** Every key of the encoded map; no other key is accepted. */
const KEYS = ['chunkSize', 'chunks', 'createdAt', 'deidProfile', 'fileId', 'master', 'merkleRoot', 'salt', 'totalSize', 'v', 'version']

/** RFC 8949 §5.2 / cborg README "Deterministic encoding recommendations". */
const STRICT: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false,
  tags: []
}

const failInvalid: Fail = (field, problem) => { throw new ManifestInvalidError(field, problem) }

function checkLabel (value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0 || utf8(value).length > MAX_LABEL_BYTES || /\s/.test(value) || value.includes('\u0000')) {
    failInvalid(field, `must be a non-empty string of at most ${MAX_LABEL_BYTES} bytes without spaces`)
  }
}

/** Checks every field and that chunk sizes and the Merkle root agree with the layout and chunk ids. */
export function validateManifest (m: Manifest): void {
  if (m.v !== MANIFEST_VERSION) failInvalid('v', `unsupported manifest version ${String(m.v)}`)
  checkLayout(m, failInvalid)
  checkLabel(m.deidProfile, 'deidProfile')
  checkLabel(m.master, 'master')
  if (!Number.isSafeInteger(m.createdAt) || m.createdAt < 0) failInvalid('createdAt', 'must be a non-negative integer (ms)')
  const n = chunkCount(m)
  if (!Array.isArray(m.chunks) || m.chunks.length !== n) failInvalid('chunks', `must list ${n} chunks`)
  m.chunks.forEach((c, i) => {
    if (!(c.id instanceof Uint8Array) || c.id.length !== HASH_BYTES) failInvalid(`chunks[${i}].id`, `must be ${HASH_BYTES} bytes`)
    if (c.size !== sealedChunkSize(m, i)) failInvalid(`chunks[${i}].size`, `must be ${sealedChunkSize(m, i)}`)
  })
  if (!(m.merkleRoot instanceof Uint8Array) || !equalBytes(m.merkleRoot, merkleRoot(m.chunks.map(c => c.id)))) {
    failInvalid('merkleRoot', 'is not the Merkle root of the chunk ids')
  }
}

/** Builds and validates a manifest from a finished sealing. */
export function buildManifest (init: BuildManifestInit): Manifest {
  const { layout } = init
  const chunks = init.chunks.map(c => ({ id: new Uint8Array(c.id), size: c.size }))
  const manifest: Manifest = {
    v: MANIFEST_VERSION,
    fileId: layout.fileId,
    version: layout.version,
    chunkSize: layout.chunkSize,
    totalSize: layout.totalSize,
    salt: new Uint8Array(layout.salt),
    chunks,
    merkleRoot: merkleRoot(chunks.map(c => c.id)),
    deidProfile: init.deidProfile,
    createdAt: init.createdAt ?? Date.now(),
    master: init.master
  }
  validateManifest(manifest)
  return manifest
}

/** The content id of a manifest: its Merkle root. */
export function contentId (manifest: Manifest): Uint8Array {
  return manifest.merkleRoot
}

/** Deterministic CBOR of a valid manifest. Chunks are encoded as [id, size] pairs. */
export function encodeManifest (manifest: Manifest): Uint8Array {
  validateManifest(manifest)
  return encode({
    v: manifest.v,
    fileId: manifest.fileId,
    version: manifest.version,
    chunkSize: manifest.chunkSize,
    totalSize: manifest.totalSize,
    salt: new Uint8Array(manifest.salt),
    chunks: manifest.chunks.map(c => [new Uint8Array(c.id), c.size]),
    merkleRoot: new Uint8Array(manifest.merkleRoot),
    deidProfile: manifest.deidProfile,
    createdAt: manifest.createdAt,
    master: manifest.master
  }, rfc8949EncodeOptions)
}

/** Strict CBOR decode with a size cap; throws ManifestDecodeError. */
export function decodeStrict (bytes: Uint8Array, maxBytes: number, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new ManifestDecodeError(`${what} must be bytes`)
  if (bytes.length > maxBytes) throw new ManifestDecodeError(`${what} larger than ${maxBytes} bytes`)
  try {
    return decode(bytes, STRICT)
  } catch (err) {
    throw new ManifestDecodeError(`${what} is not strict CBOR (${(err as Error).message})`)
  }
}

function isPlainObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array)
}

/** Checks an object has exactly these keys. */
export function checkKeys (x: unknown, keys: string[], what: string): Record<string, unknown> {
  if (!isPlainObject(x)) throw new ManifestDecodeError(`${what} must be a map`)
  const got = Object.keys(x).sort()
  const want = [...keys].sort()
  if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
    throw new ManifestDecodeError(`${what} must have exactly the keys ${want.join(', ')}`)
  }
  return x
}

/**
 * Decodes and validates manifest bytes. Throws ManifestDecodeError (not the
 * one deterministic CBOR encoding of a manifest) or ManifestInvalidError.
 * Does not check a signature: see `verifySignedManifest`.
 */
export function decodeManifest (bytes: Uint8Array): Manifest {
  const raw = checkKeys(decodeStrict(bytes, MAX_MANIFEST_BYTES, 'manifest'), KEYS, 'manifest')
  const chunks = raw.chunks
  if (!Array.isArray(chunks) || chunks.length > MAX_CHUNKS) throw new ManifestDecodeError(`chunks must be an array of at most ${MAX_CHUNKS}`)
  const manifest = {
    ...raw,
    chunks: chunks.map((c: unknown, i) => {
      if (!Array.isArray(c) || c.length !== 2) throw new ManifestDecodeError(`chunks[${i}] must be [id, size]`)
      return { id: c[0], size: c[1] }
    })
  } as unknown as Manifest
  validateManifest(manifest)
  if (!equalBytes(encodeManifest(manifest), bytes)) throw new ManifestDecodeError('not in deterministic encoding (re-encoding differs)')
  return manifest
}
