/**
 * Frames a master sends ahead of its answer on `/dm2/image/1.0.0`, for a
 * requester that asked for them (request field `ahead`, see index.ts):
 *
 * - `0x01` KEY:   CBOR `{ version, wrapped }`: the data key of the build
 *   under way, wrapped to the requester's recipient key, once the key
 *   release's own access check allowed it (audited as `keys/release`);
 * - `0x02` CHUNK: uint32 big-endian index, then the sealed chunk's bytes,
 *   as soon as the build sealed it.
 *
 * Neither kind byte can begin the answer (a CBOR map, 0xa0-0xbf: rpc.ts).
 * Nothing sent ahead is trusted: a chunk counts only if the manifest of the
 * answer lists its hash, and the key only if the answer is for its version
 * and carries no other key. The requester bounds what it holds: one key,
 * at most INLINE_MAX_CHUNKS chunks of at most MAX_CHUNK_BYTES, each index
 * once.
 */
import { createHash } from 'node:crypto'
import type { Uint8ArrayList } from 'uint8arraylist'
import { decodeCbor, encodeCbor } from '../../codec/cbor.js'
import type { Pieces } from '../../codec/pieces.js'
import { MAX_CHUNK_BYTES } from '../chunks/index.js'
import { MAX_WRAPPED_KEY_BYTES } from '../keys/index.js'
import { ProtocolError } from '../status.js'

export const AHEAD_KEY = 0x01
export const AHEAD_CHUNK = 0x02
/** Kind byte and index of a CHUNK frame. */
const CHUNK_HEADER_BYTES = 5
/** Largest frame ahead of an answer: a chunk and its header. */
export const MAX_AHEAD_FRAME_BYTES = MAX_CHUNK_BYTES + CHUNK_HEADER_BYTES
const MAX_KEY_FRAME_BYTES = MAX_WRAPPED_KEY_BYTES + 64

export function encodeAheadKey (version: number, wrapped: Uint8Array): Uint8Array {
  const body = encodeCbor({ version, wrapped })
  const out = new Uint8Array(body.byteLength + 1)
  out[0] = AHEAD_KEY
  out.set(body, 1)
  return out
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

/** A chunk sent ahead: its bytes as they arrived, and their SHA-256 (to compare with the manifest's id). */
export interface AheadChunk {
  bytes: Pieces
  sha256: Uint8Array
}

/**
 * What a requester received ahead of the answer, checked frame by frame
 * (`take`, which throws ProtocolError on anything out of bounds). `onKey`
 * sees the key as it arrives, so that unwrapping it overlaps the build.
 */
export class AheadFrames {
  key?: AheadKey
  readonly chunks = new Map<number, AheadChunk>()

  constructor (private readonly maxChunks: number, private readonly onKey?: (key: AheadKey) => void) {}

  readonly take = (frame: Uint8ArrayList): void => {
    const kind = frame.byteLength > 0 ? frame.get(0) : -1
    if (kind === AHEAD_KEY) {
      if (this.key !== undefined) throw new ProtocolError('a second key ahead of the answer')
      if (frame.byteLength > MAX_KEY_FRAME_BYTES) throw new ProtocolError('key frame too large')
      let o: unknown
      try {
        o = decodeCbor(frame.subarray(1), MAX_KEY_FRAME_BYTES)
      } catch {
        throw new ProtocolError('key frame is not canonical CBOR')
      }
      if (o === null || typeof o !== 'object' || Object.keys(o).sort().join(',') !== 'version,wrapped') throw new ProtocolError('bad key frame')
      const { version, wrapped } = o as Record<string, unknown>
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw new ProtocolError('bad version in the key frame')
      if (!(wrapped instanceof Uint8Array) || wrapped.byteLength > MAX_WRAPPED_KEY_BYTES) throw new ProtocolError('bad wrapped key in the key frame')
      this.key = { version, wrapped }
      this.onKey?.(this.key)
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
      this.chunks.set(index, { bytes, sha256: new Uint8Array(hash.digest()) })
      return
    }
    throw new ProtocolError('unknown frame ahead of the answer')
  }
}
