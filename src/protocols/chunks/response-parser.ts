/**
 * The requester's side of a `/dm2/chunks/1.0.0` response, parsed as it
 * arrives (frames in frames.ts: varint length ‖ kind ‖ body). Pushed the
 * stream's data as the muxer delivers it, piece by piece: a chunk's bytes
 * are hashed while still in the CPU cache (just decrypted by noise) and
 * kept as the pieces they came in (codec/pieces.ts), never copied into one
 * buffer. Pure: no I/O, no timers.
 *
 * Every limit is checked before anything is allocated: the length prefix
 * (at most MAX_CHUNK_BYTES for a chunk, MAX_CONTROL_BYTES otherwise), the
 * frame order (STATUS first, END last), and the chunk index (requested, and
 * not yet received) before its buffer exists.
 */
import { createHash, type Hash } from 'node:crypto'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { Pieces } from '../../codec/pieces.js'
import { ProtocolError } from '../status.js'
import { MAX_CHUNK_BYTES, MAX_CONTROL_BYTES } from './constants.js'
import { decodeEnd, decodeStatus, FRAME_CHUNK, FRAME_END, FRAME_STATUS, type StatusFrame } from './frames.js'

/** Bytes of a varint length prefix, at most (a length up to 2^35). */
const MAX_VARINT_BYTES = 5
/** Kind byte and uint32 index before a chunk's bytes. */
const CHUNK_HEAD_BYTES = 5

export interface ResponseHandler {
  status: (frame: StatusFrame) => void
  /** A whole chunk, in the pieces it arrived in, and the SHA-256 of its bytes (the caller compares it with the expected id). */
  chunk: (index: number, bytes: Pieces, sha256: Uint8Array) => void
  /** The END frame: indexes the source does not hold. */
  end: (missing: number[]) => void
}

type State =
  | { at: 'length', value: number, shift: number, bytes: number }
  | { at: 'head', length: number, head: Uint8Array, have: number }
  | { at: 'control', kind: number, body: Uint8Array, have: number }
  | { at: 'chunk', index: number, length: number, pieces: Uint8Array[], have: number, hash: Hash }
  | { at: 'done' }

export class ResponseParser {
  private state: State = { at: 'length', value: 0, shift: 0, bytes: 0 }
  private sawStatus = false
  private readonly taken = new Set<number>()

  /** `expected`: the requested chunk indexes (each accepted once). */
  constructor (private readonly expected: ReadonlyMap<number, unknown>, private readonly handler: ResponseHandler) {}

  /** True between frames (nothing half-read) and after END. */
  get atBoundary (): boolean {
    return this.state.at === 'done' || (this.state.at === 'length' && this.state.bytes === 0)
  }

  get ended (): boolean { return this.state.at === 'done' }

  /** Feeds bytes as they arrive. Throws ProtocolError on any violation; the parser is then unusable. */
  push (data: Uint8Array | Uint8ArrayList): void {
    if (data instanceof Uint8Array) this.pushPiece(data)
    else for (const piece of data) this.pushPiece(piece)
  }

  private pushPiece (piece: Uint8Array): void {
    let at = 0
    while (at < piece.length) {
      const s = this.state
      switch (s.at) {
        case 'done':
          throw new ProtocolError('data after the end frame')
        case 'length': {
          const b = piece[at++] as number
          s.value += (b & 0x7f) * 2 ** s.shift
          s.shift += 7
          s.bytes++
          if (b >= 0x80) {
            if (s.bytes >= MAX_VARINT_BYTES) throw new ProtocolError('frame length prefix too long')
            break
          }
          this.startFrame(s.value)
          break
        }
        case 'head': {
          const n = Math.min(s.head.length - s.have, piece.length - at)
          s.head.set(piece.subarray(at, at + n), s.have)
          s.have += n
          at += n
          if (s.have === s.head.length) this.startBody(s.length, s.head)
          break
        }
        case 'control': {
          const n = Math.min(s.body.length - s.have, piece.length - at)
          s.body.set(piece.subarray(at, at + n), s.have)
          s.have += n
          at += n
          if (s.have === s.body.length) this.endControl(s.kind, s.body)
          break
        }
        case 'chunk': {
          const n = Math.min(s.length - s.have, piece.length - at)
          const part = piece.subarray(at, at + n)
          s.hash.update(part)
          s.pieces.push(part)
          s.have += n
          at += n
          if (s.have === s.length) this.finishChunk()
          break
        }
      }
    }
  }

  private startFrame (length: number): void {
    if (length === 0) throw new ProtocolError('empty frame')
    if (length > MAX_CHUNK_BYTES + CHUNK_HEAD_BYTES) throw new ProtocolError(`frame of ${length} bytes exceeds the limit`)
    // The kind byte decides the limit; a chunk frame also needs its index first.
    this.state = { at: 'head', length, head: new Uint8Array(Math.min(length, CHUNK_HEAD_BYTES)), have: 0 }
  }

  private startBody (length: number, head: Uint8Array): void {
    const kind = head[0] as number
    if (!this.sawStatus && kind !== FRAME_STATUS) throw new ProtocolError('expected a status frame')
    if (kind === FRAME_CHUNK) {
      if (length < CHUNK_HEAD_BYTES) throw new ProtocolError('expected a chunk frame')
      const index = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(1)
      if (!this.expected.has(index) || this.taken.has(index)) throw new ProtocolError(`unrequested chunk ${index}`)
      this.taken.add(index)
      this.state = { at: 'chunk', index, length: length - CHUNK_HEAD_BYTES, pieces: [], have: 0, hash: createHash('sha256') }
      if (length === CHUNK_HEAD_BYTES) this.finishChunk()
      return
    }
    if (kind !== FRAME_STATUS && kind !== FRAME_END) throw new ProtocolError('unexpected frame')
    if (kind === FRAME_STATUS && this.sawStatus) throw new ProtocolError('second status frame')
    if (length > MAX_CONTROL_BYTES) throw new ProtocolError(`control frame of ${length} bytes exceeds the limit`)
    const body = new Uint8Array(length)
    body.set(head)
    this.state = { at: 'control', kind, body, have: head.length }
    if (head.length === length) this.endControl(kind, body)
  }

  private finishChunk (): void {
    const s = this.state
    if (s.at !== 'chunk') return
    this.state = { at: 'length', value: 0, shift: 0, bytes: 0 }
    this.handler.chunk(s.index, s.pieces, new Uint8Array(s.hash.digest()))
  }

  private endControl (kind: number, frame: Uint8Array): void {
    if (kind === FRAME_STATUS) {
      const status = decoded(() => decodeStatus(frame))
      this.sawStatus = true
      this.state = { at: 'length', value: 0, shift: 0, bytes: 0 }
      this.handler.status(status)
      return
    }
    const missing = decoded(() => decodeEnd(frame))
    this.state = { at: 'done' }
    this.handler.end(missing)
  }
}

/** A control frame's CBOR, any decoding failure as a ProtocolError. */
function decoded<T> (decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    throw new ProtocolError('control frame is not valid CBOR')
  }
}
