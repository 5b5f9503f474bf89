/**
 * Frames a master sends ahead of its answer on `/dm2/image/1.0.0`, for a
 * requester that asked for them (request field `ahead`, see index.ts):
 *
 * - `0x01` KEY:   CBOR `{ version, wrapped }`: the data key of the build
 *   under way, wrapped to the requester's recipient key, once the key
 *   release's own access check allowed it (audited as `keys/release`);
 * - `0x02` CHUNK: uint32 big-endian index, then the sealed chunk's bytes,
 *   as soon as the build sealed it;
 * - `0x03` LAYOUT: CBOR `{ chunkSize, totalSize, salt }`, the sealing's
 *   layout (the manifest will list the same), before the first CHUNK: with
 *   the key, the requester can open each chunk as it arrives.
 *
 * Neither kind byte can begin the answer (a CBOR map, 0xa0-0xbf: rpc.ts).
 * Nothing sent ahead is trusted: a chunk counts only if the manifest of the
 * answer lists its hash, the key only if the answer is for its version
 * and carries no other key, and the layout only if it is the manifest's.
 * The requester bounds what it holds: one key, one layout, at most
 * INLINE_MAX_CHUNKS chunks of at most MAX_CHUNK_BYTES, each index once.
 */
import { createHash } from 'node:crypto'
import type { Uint8ArrayList } from 'uint8arraylist'
import { decodeCbor, encodeCbor } from '../../codec/cbor.js'
import type { Pieces } from '../../codec/pieces.js'
import { SALT_BYTES } from '../../privacy/payload/index.js'
import { MAX_CHUNK_BYTES } from '../chunks/index.js'
import { MAX_WRAPPED_KEY_BYTES } from '../keys/index.js'
import { ProtocolError } from '../status.js'

export const AHEAD_KEY = 0x01
export const AHEAD_CHUNK = 0x02
export const AHEAD_LAYOUT = 0x03
/** Kind byte and index of a CHUNK frame. */
const CHUNK_HEADER_BYTES = 5
/** Largest frame ahead of an answer: a chunk and its header. */
export const MAX_AHEAD_FRAME_BYTES = MAX_CHUNK_BYTES + CHUNK_HEADER_BYTES
const MAX_KEY_FRAME_BYTES = MAX_WRAPPED_KEY_BYTES + 64
const MAX_LAYOUT_FRAME_BYTES = 256

function withKind (kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1)
  out[0] = kind
  out.set(body, 1)
  return out
}

/** The CBOR map a frame carries after its kind byte, with exactly `fields`, or ProtocolError. */
function frameMap (frame: Uint8ArrayList, maxBytes: number, fields: string, name: string): Record<string, unknown> {
  if (frame.byteLength > maxBytes) throw new ProtocolError(`${name} frame too large`)
  let o: unknown
  try {
    o = decodeCbor(frame.subarray(1), maxBytes)
  } catch {
    throw new ProtocolError(`${name} frame is not canonical CBOR`)
  }
  if (o === null || typeof o !== 'object' || Object.keys(o).sort().join(',') !== fields) throw new ProtocolError(`bad ${name} frame`)
  return o as Record<string, unknown>
}

function isSize (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0
}

export function encodeAheadKey (version: number, wrapped: Uint8Array): Uint8Array {
  return withKind(AHEAD_KEY, encodeCbor({ version, wrapped }))
}

export function encodeAheadLayout (layout: AheadLayout): Uint8Array {
  return withKind(AHEAD_LAYOUT, encodeCbor({ chunkSize: layout.chunkSize, totalSize: layout.totalSize, salt: layout.salt }))
}

/** The header of a CHUNK frame; the chunk's bytes follow it (never copied into one buffer). */
export function aheadChunkHeader (index: number): Uint8Array {
  const header = new Uint8Array(CHUNK_HEADER_BYTES)
  header[0] = AHEAD_CHUNK
  new DataView(header.buffer).setUint32(1, index)
  return header
}

/** A wrapped data key sent ahead, for the version it names. */
export interface AheadKey {
  version: number
  wrapped: Uint8Array
}

/** The layout of the sealing under way (the file id and version are the request's). */
export interface AheadLayout {
  chunkSize: number
  totalSize: number
  salt: Uint8Array
}

/** A chunk sent ahead: its bytes as they arrived, and their SHA-256 (to compare with the manifest's id). */
export interface AheadChunk {
  bytes: Pieces
  sha256: Uint8Array
}

/** Sees each frame ahead of the answer as it arrives (once checked), so that the work on it overlaps the build. */
export interface AheadListener {
  key?: (key: AheadKey) => void
  layout?: (layout: AheadLayout) => void
  chunk?: (index: number, chunk: AheadChunk) => void
}

/**
 * What a requester received ahead of the answer, checked frame by frame
 * (`take`, which throws ProtocolError on anything out of bounds), told to
 * `listener` as it arrives.
 */
export class AheadFrames {
  key?: AheadKey
  layout?: AheadLayout
  readonly chunks = new Map<number, AheadChunk>()

  constructor (private readonly maxChunks: number, private readonly listener: AheadListener = {}) {}

  readonly take = (frame: Uint8ArrayList): void => {
    const kind = frame.byteLength > 0 ? frame.get(0) : -1
    if (kind === AHEAD_KEY) {
      if (this.key !== undefined) throw new ProtocolError('a second key ahead of the answer')
      const { version, wrapped } = frameMap(frame, MAX_KEY_FRAME_BYTES, 'version,wrapped', 'key')
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw new ProtocolError('bad version in the key frame')
      if (!(wrapped instanceof Uint8Array) || wrapped.byteLength > MAX_WRAPPED_KEY_BYTES) throw new ProtocolError('bad wrapped key in the key frame')
      this.key = { version, wrapped }
      this.listener.key?.(this.key)
      return
    }
    if (kind === AHEAD_LAYOUT) {
      if (this.layout !== undefined) throw new ProtocolError('a second layout ahead of the answer')
      const { chunkSize, totalSize, salt } = frameMap(frame, MAX_LAYOUT_FRAME_BYTES, 'chunkSize,salt,totalSize', 'layout')
      if (!isSize(chunkSize) || chunkSize > MAX_CHUNK_BYTES || !isSize(totalSize) || !(salt instanceof Uint8Array) || salt.byteLength !== SALT_BYTES) {
        throw new ProtocolError('bad layout frame')
      }
      this.layout = { chunkSize, totalSize, salt }
      this.listener.layout?.(this.layout)
      return
    }
    if (kind === AHEAD_CHUNK) {
      if (frame.byteLength < CHUNK_HEADER_BYTES || frame.byteLength > MAX_AHEAD_FRAME_BYTES) throw new ProtocolError('bad chunk frame')
      const index = frame.getUint32(1)
      if (index >= this.maxChunks) throw new ProtocolError(`chunk ${index} cannot come ahead of the answer`)
      if (this.chunks.has(index)) throw new ProtocolError(`chunk ${index} sent twice ahead of the answer`)
      const bytes = [...frame.sublist(CHUNK_HEADER_BYTES)]
      const hash = createHash('sha256')
      for (const piece of bytes) hash.update(piece)
      const chunk = { bytes, sha256: new Uint8Array(hash.digest()) }
      this.chunks.set(index, chunk)
      this.listener.chunk?.(index, chunk)
      return
    }
    throw new ProtocolError('unknown frame ahead of the answer')
  }
}
