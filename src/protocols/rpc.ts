/**
 * One request, one response, over one libp2p stream: the shape of most DM²
 * protocols (key release, similarity, metadata query). Both frames are
 * length-prefixed with a hard cap and a timeout; the server never sends an
 * exception's text, only a status code (and a machine-readable reason).
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { decodeCanonical, encodeCanonical } from '../sac/cbor.js'
import { isStatus, ProtocolError, statusError, type Status } from './status.js'

export interface RpcLimits {
  maxRequestBytes: number
  maxResponseBytes: number
  timeoutMs: number
}

/** What a handler returns: OK with a body, or a non-OK status with an optional reason code. */
export type RpcReply =
  | { status: 'OK', body: Record<string, unknown> }
  | { status: Exclude<Status, 'OK'>, reason?: string }

export type RpcHandler = (request: Record<string, unknown>, connection: Connection, signal: AbortSignal) => Promise<RpcReply>

/** `value` as a CBOR map, or ProtocolError (a request's nested fields included). */
export function asMap (value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw new ProtocolError('message is not a map')
  return value as Record<string, unknown>
}

/** A libp2p stream handler answering one request with `handler`. */
export function rpcServer (limits: RpcLimits, handler: RpcHandler, log: Logger): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const signal = AbortSignal.timeout(limits.timeoutMs)
    const lp = lpStream(stream, { maxDataLength: limits.maxRequestBytes })
    try {
      let reply: RpcReply
      let request: Record<string, unknown> | undefined
      try {
        request = asMap(decodeCanonical((await lp.read({ signal })).subarray(), limits.maxRequestBytes))
      } catch (err) {
        if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') throw err
        log('invalid request from %p: %s', connection.remotePeer, (err as Error).name)
      }
      if (request === undefined) {
        reply = { status: 'INVALID' }
      } else {
        try {
          reply = await handler(request, connection, signal)
        } catch (err) {
          log.error('handler failed for %p: %s', connection.remotePeer, (err as Error).message)
          reply = { status: (err as Error).name === 'ProtocolError' ? 'INVALID' : 'ERROR' }
        }
      }
      const message = reply.status === 'OK'
        ? { status: 'OK', body: reply.body }
        : reply.reason === undefined ? { status: reply.status } : { status: reply.status, reason: reply.reason }
      await lp.write(encodeCanonical(message, limits.maxResponseBytes), { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

/** Sends one request on an open stream and returns the OK body, or throws the typed status error. */
export async function rpcCall (stream: Stream, request: Record<string, unknown>, limits: RpcLimits, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const timeout = AbortSignal.timeout(limits.timeoutMs)
  const s = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  const lp = lpStream(stream, { maxDataLength: limits.maxResponseBytes })
  try {
    await lp.write(encodeCanonical(request, limits.maxRequestBytes), { signal: s })
    const reply = asMap(decodeCanonical((await lp.read({ signal: s })).subarray(), limits.maxResponseBytes))
    await stream.close({ signal: s }).catch(() => {})
    if (!isStatus(reply.status)) throw new ProtocolError('unknown status')
    if (reply.status !== 'OK') {
      const reason = typeof reply.reason === 'string' && reply.reason.length <= 64 ? reply.reason : undefined
      throw statusError(reply.status, reason)
    }
    return asMap(reply.body)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
