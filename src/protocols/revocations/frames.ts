/**
 * Frames of `/dm2/revocations/1.0.0`, varint-length-prefixed, each starting
 * with a kind byte; one exchange per stream:
 *
 * - `0x01` PUSH:   CBOR `{ v: 1, notices: [bytes] }` (1…16 revocation notices)
 * - `0x02` RESULT: CBOR `{ status, reason?, results: [code] }`, one code per
 *   notice: `NEW`, `KNOWN`, or the refusal reason (e.g. `NOT_ISSUER`).
 *
 * Notices are opaque here: the receiver's revocation store verifies them.
 */
import { decodeCbor, encodeCbor } from '../../codec/cbor.js'
import { MAX_REVOCATION_NOTICE_BYTES } from '../../sac/revocation-store.js'
import { isStatus, ProtocolError, type Status } from '../status.js'
import { MAX_FRAME_BYTES, MAX_NOTICES_PER_PUSH, MAX_RESULT_CODE_LENGTH } from './constants.js'

export const FRAME_PUSH = 0x01
export const FRAME_RESULT = 0x02

export interface ResultFrame {
  status: Status
  reason?: string
  results: string[]
}

const CODE = new RegExp(`^[A-Z][A-Z0-9_]{0,${MAX_RESULT_CODE_LENGTH - 1}}$`)

function withKind (kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1)
  out[0] = kind
  out.set(body, 1)
  return out
}

function map (frame: Uint8Array, kind: number, keys: string[]): Record<string, unknown> {
  if (frame[0] !== kind) throw new ProtocolError('unexpected frame kind')
  let value: unknown
  try {
    value = decodeCbor(frame.subarray(1), MAX_FRAME_BYTES)
  } catch {
    throw new ProtocolError('frame is not canonical CBOR')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw new ProtocolError('frame is not a map')
  for (const k of Object.keys(value)) if (!keys.includes(k)) throw new ProtocolError('unknown field')
  return value as Record<string, unknown>
}

export function encodePush (notices: readonly Uint8Array[]): Uint8Array {
  return withKind(FRAME_PUSH, encodeCbor({ v: 1, notices: [...notices] }))
}

export function decodePush (frame: Uint8Array): Uint8Array[] {
  const o = map(frame, FRAME_PUSH, ['v', 'notices'])
  if (o.v !== 1) throw new ProtocolError('unsupported version')
  const notices = o.notices
  if (!Array.isArray(notices) || notices.length === 0 || notices.length > MAX_NOTICES_PER_PUSH) throw new ProtocolError('bad notice list')
  for (const n of notices) {
    if (!(n instanceof Uint8Array) || n.byteLength === 0 || n.byteLength > MAX_REVOCATION_NOTICE_BYTES) throw new ProtocolError('bad notice')
  }
  return notices as Uint8Array[]
}

export function encodeResult (r: ResultFrame): Uint8Array {
  return withKind(FRAME_RESULT, encodeCbor(r.reason === undefined ? { status: r.status, results: r.results } : { status: r.status, reason: r.reason, results: r.results }))
}

export function decodeResult (frame: Uint8Array, expected: number): ResultFrame {
  const o = map(frame, FRAME_RESULT, ['status', 'reason', 'results'])
  if (!isStatus(o.status)) throw new ProtocolError('unknown status')
  if (o.reason !== undefined && (typeof o.reason !== 'string' || !CODE.test(o.reason))) throw new ProtocolError('bad reason')
  const results = o.results
  if (!Array.isArray(results) || !results.every(c => typeof c === 'string' && CODE.test(c))) throw new ProtocolError('bad results')
  if (o.status !== 'BUSY' && o.status !== 'INVALID' && results.length !== expected) throw new ProtocolError('one result per notice expected')
  return o.reason === undefined ? { status: o.status, results } : { status: o.status, reason: o.reason, results }
}

/** A refusal reason as a result code (codes only cross to other hospitals, never messages). */
export function resultCode (reason: unknown): string {
  return typeof reason === 'string' && CODE.test(reason) ? reason : 'ERROR'
}
