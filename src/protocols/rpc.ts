/**
 * One request, one response, over one libp2p stream: the shape of most DM²
 * protocols (key release, similarity, metadata query). Both frames are
 * length-prefixed with a hard cap and a timeout; the server never sends an
 * exception's text, only a status code (and a machine-readable reason).
 *
 * A protocol may let its handler send frames ahead of the answer (`ahead`,
 * see RpcHandler): each starts with a kind byte that cannot begin a CBOR map
 * (0xa0-0xbf), so the caller (`onAhead`) tells them from the answer, which
 * always is one. Only for a request that asked for them.
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import { decodeCanonical, encodeCanonical } from '../sac/cbor.js'
import { isStatus, ProtocolError, statusError, type Status } from './status.js'

export interface RpcLimits {
  maxRequestBytes: number
  maxResponseBytes: number
  timeoutMs: number
  /** Largest frame sent ahead of the answer (see RpcHandler); the answer itself stays within maxResponseBytes. */
  maxAheadBytes?: number
}

/**
 * What a handler returns: OK with a body, or a non-OK status with an optional
 * reason code. `more`: frames that follow the answer on the same stream
 * (`send` writes them after the answer); `release` runs once the stream is
 * done with, whether `send` ran or not.
 */
export type RpcReply =
  | { status: 'OK', body: Record<string, unknown>, more?: RpcMore }
  | { status: Exclude<Status, 'OK'>, reason?: string }

export interface RpcMore {
  send: (lp: LengthPrefixedStream) => Promise<void>
  release: () => void
}

/**
 * `ahead`: queues a frame to go before the answer, in order (written while
 * the handler still works; the answer waits for them). It must start with a
 * kind byte outside 0xa0-0xbf. Returns false, sending nothing, once the
 * handler has returned or a write has failed (the requester is gone: the
 * answer then fails too). Only for a requester that asked for such frames.
 */
export type RpcHandler = (request: Record<string, unknown>, connection: Connection, signal: AbortSignal, ahead: AheadSender) => Promise<RpcReply>

export type AheadSender = (frame: Uint8Array | Uint8ArrayList) => boolean

/** True for a frame sent ahead of the answer: the answer is a CBOR map, whose first byte is 0xa0-0xbf. */
export function isAheadFrame (frame: Uint8ArrayList): boolean {
  return frame.byteLength === 0 || (frame.get(0) & 0xe0) !== 0xa0
}

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
      /** Frames ahead of the answer, written one after the other while the handler works. */
      let aheadOpen = true
      let aheadWrites = Promise.resolve()
      let aheadFailed: unknown
      const ahead: AheadSender = (frame) => {
        if (!aheadOpen || aheadFailed !== undefined) return false
        aheadWrites = aheadWrites.then(async () => {
          if (aheadFailed === undefined) await lp.write(frame, { signal })
        }).catch((err: unknown) => { aheadFailed ??= err })
        return true
      }
      if (request === undefined) {
        reply = { status: 'INVALID' }
      } else {
        try {
          reply = await handler(request, connection, signal, ahead)
        } catch (err) {
          log.error('handler failed for %p: %s', connection.remotePeer, (err as Error).message)
          reply = { status: (err as Error).name === 'ProtocolError' ? 'INVALID' : 'ERROR' }
        }
      }
      aheadOpen = false
      await aheadWrites
      if (aheadFailed !== undefined) {
        (reply.status === 'OK' ? reply.more : undefined)?.release()
        throw aheadFailed
      }
      const more = reply.status === 'OK' ? reply.more : undefined
      try {
        const message = reply.status === 'OK'
          ? { status: 'OK', body: reply.body }
          : reply.reason === undefined ? { status: reply.status } : { status: reply.status, reason: reply.reason }
        await lp.write(encodeCanonical(message, limits.maxResponseBytes), { signal })
        await more?.send(lp)
      } finally {
        more?.release()
      }
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

/** Sends one request on an open stream and returns the OK body, or throws the typed status error. */
export async function rpcCall (stream: Stream, request: Record<string, unknown>, limits: RpcLimits, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const { body } = await exchange(stream, request, limits, signal, false)
  return body
}

/**
 * Like rpcCall, for an answer that more frames may follow (RpcReply.more):
 * the OK body and the stream, paused, with any bytes already read after the
 * answer put back. The caller reads it (resume) and closes or aborts it.
 */
export async function rpcCallWithMore (stream: Stream, request: Record<string, unknown>, limits: RpcLimits, signal?: AbortSignal, onAhead?: (frame: Uint8ArrayList) => void): Promise<{ body: Record<string, unknown>, stream: Stream }> {
  return await exchange(stream, request, limits, signal, true, onAhead)
}

/** `onAhead`: takes each frame sent ahead of the answer (see RpcHandler), or throws to fail the call; without it, such a frame fails the call. */
async function exchange (stream: Stream, request: Record<string, unknown>, limits: RpcLimits, signal: AbortSignal | undefined, keepOpen: boolean, onAhead?: (frame: Uint8ArrayList) => void): Promise<{ body: Record<string, unknown>, stream: Stream }> {
  const timeout = AbortSignal.timeout(limits.timeoutMs)
  const s = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  const maxFrame = onAhead === undefined ? limits.maxResponseBytes : Math.max(limits.maxResponseBytes, limits.maxAheadBytes ?? 0)
  const lp = lpStream(stream, { maxDataLength: maxFrame })
  try {
    await lp.write(encodeCanonical(request, limits.maxRequestBytes), { signal: s })
    let frame = await lp.read({ signal: s })
    if (onAhead !== undefined) {
      while (isAheadFrame(frame)) {
        onAhead(frame)
        frame = await lp.read({ signal: s })
      }
    }
    if (frame.byteLength > limits.maxResponseBytes) throw new ProtocolError('answer too large')
    const reply = asMap(decodeCanonical(frame.subarray(), limits.maxResponseBytes))
    if (!isStatus(reply.status)) throw new ProtocolError('unknown status')
    if (reply.status !== 'OK') {
      await stream.close({ signal: s }).catch(() => {})
      const reason = typeof reply.reason === 'string' && reply.reason.length <= 64 ? reply.reason : undefined
      throw statusError(reply.status, reason)
    }
    const body = asMap(reply.body)
    if (!keepOpen) {
      await stream.close({ signal: s }).catch(() => {})
      return { body, stream }
    }
    // Paused before it is unwrapped: what follows waits in the stream (the muxer withholds its window).
    if (stream.readStatus === 'readable') stream.pause()
    return { body, stream: lp.unwrap() }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
