/**
 * Frames of `/dm2/chunks/1.0.0`. Every frame is varint-length-prefixed and
 * starts with a kind byte:
 *
 * - `0x01` REQUEST: CBOR `{ v: 1, auth: bytes, cid: bytes, idx: [uint] }`
 * - `0x02` STATUS:  CBOR `{ status, reason? }` (first answer frame)
 * - `0x03` CHUNK:   uint32 big-endian index, then the chunk bytes
 * - `0x04` END:     CBOR `{ missing: [uint] }` (the chunks the server does not hold)
 *
 * Chunks travel as raw bytes, not CBOR, so a 1 MiB chunk is not copied twice.
 */
import { decodeCbor, encodeCbor } from '../../codec/cbor.js'
import { isStatus, ProtocolError, type Status } from '../status.js'
import { MAX_CONTENT_ID_BYTES, MAX_CONTROL_BYTES, MAX_INDEXES_PER_REQUEST } from './constants.js'

export const FRAME_REQUEST = 0x01
export const FRAME_STATUS = 0x02
export const FRAME_CHUNK = 0x03
export const FRAME_END = 0x04

export interface ChunkRequest {
  /** The requester's invocation and certificate chain, opaque here. */
  auth: Uint8Array
  contentId: Uint8Array
  indexes: number[]
}

export interface StatusFrame {
  status: Status
  reason?: string
}

function withKind (kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1)
  out[0] = kind
  out.set(body, 1)
  return out
}

function isIndex (v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff
}

function body (frame: Uint8Array, kind: number, name: string): Uint8Array {
  if (frame[0] !== kind) throw new ProtocolError(`expected a ${name} frame`)
  return frame.subarray(1)
}

function object (value: unknown, keys: string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ProtocolError('frame is not a map')
  }
  for (const k of Object.keys(value)) if (!keys.includes(k)) throw new ProtocolError(`unknown field ${k}`)
  return value as Record<string, unknown>
}

export function encodeRequest (req: ChunkRequest): Uint8Array {
  return withKind(FRAME_REQUEST, encodeCbor({ v: 1, auth: req.auth, cid: req.contentId, idx: req.indexes }))
}

export function decodeRequest (frame: Uint8Array): ChunkRequest {
  let value: unknown
  try {
    value = decodeCbor(body(frame, FRAME_REQUEST, 'request'), MAX_CONTROL_BYTES)
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    throw new ProtocolError('request is not canonical CBOR')
  }
  const o = object(value, ['v', 'auth', 'cid', 'idx'])
  if (o.v !== 1) throw new ProtocolError('unsupported request version')
  if (!(o.auth instanceof Uint8Array)) throw new ProtocolError('auth must be bytes')
  if (!(o.cid instanceof Uint8Array) || o.cid.byteLength === 0 || o.cid.byteLength > MAX_CONTENT_ID_BYTES) {
    throw new ProtocolError('bad content id')
  }
  if (!Array.isArray(o.idx) || o.idx.length === 0 || o.idx.length > MAX_INDEXES_PER_REQUEST || !o.idx.every(isIndex)) {
    throw new ProtocolError('bad chunk indexes')
  }
  if (new Set(o.idx).size !== o.idx.length) throw new ProtocolError('duplicate chunk indexes')
  return { auth: o.auth, contentId: o.cid, indexes: o.idx }
}

export function encodeStatus (s: StatusFrame): Uint8Array {
  return withKind(FRAME_STATUS, encodeCbor(s.reason === undefined ? { status: s.status } : { status: s.status, reason: s.reason }))
}

export function decodeStatus (frame: Uint8Array): StatusFrame {
  const o = object(decodeCbor(body(frame, FRAME_STATUS, 'status'), MAX_CONTROL_BYTES), ['status', 'reason'])
  if (!isStatus(o.status)) throw new ProtocolError('unknown status')
  if (o.reason !== undefined && (typeof o.reason !== 'string' || o.reason.length > 64)) throw new ProtocolError('bad reason')
  return o.reason === undefined ? { status: o.status } : { status: o.status, reason: o.reason }
}

/** Unsigned LEB128 varint: the length prefix of every frame (as `lpStream` writes it). */
export function lengthPrefix (length: number): Uint8Array {
  const out: number[] = []
  let n = length
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return new Uint8Array(out)
}

/** The 5-byte header of a chunk frame; the chunk bytes follow it on the wire. */
export function chunkHeader (index: number): Uint8Array {
  const header = new Uint8Array(5)
  header[0] = FRAME_CHUNK
  new DataView(header.buffer).setUint32(1, index)
  return header
}

export function encodeEnd (missing: number[]): Uint8Array {
  return withKind(FRAME_END, encodeCbor({ missing }))
}

export function decodeEnd (frame: Uint8Array): number[] {
  const o = object(decodeCbor(body(frame, FRAME_END, 'end'), MAX_CONTROL_BYTES), ['missing'])
  if (!Array.isArray(o.missing) || !o.missing.every(isIndex)) throw new ProtocolError('bad end frame')
  return o.missing
}
