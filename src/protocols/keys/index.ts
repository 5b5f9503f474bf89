/**
 * `/dm2/keys/1.0.0`: key release. An authorized requester asks a trusted site
 * for the data key of one LFN version and receives it wrapped with HPKE
 * (RFC 9180) to a recipient X25519 key it names — typically a fresh key per
 * request, so the key never exists in the clear outside the two ends. The
 * serving side checks the invocation and certificate chain (ability
 * `image/read`, arguments bound to lfn, version and recipient) before looking
 * at the key; every decision is audited by the access-control module.
 *
 * @example
 * ```ts
 * services: { keys: keyRelease({ keys: dataKeyStore, access }) }
 * const wrapped = await libp2p.services.keys.request(masterPeer, { lfn, version, recipient: pub, auth })
 * const dataKey = await unwrapDataKey(wrapped, priv, { fileId: lfn, version })
 * ```
 */
import { timingSafeEqual } from 'node:crypto'
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { wrapDataKey } from '../../privacy/payload/index.js'
import { hashArguments, type ResourceDescriptor } from '../../sac/index.js'
import { authorize, type AccessChecker } from '../authorize.js'
import { PeerQueues } from '../peer-queues.js'
import { rpcCall, rpcServer, type RpcLimits, type RpcReply } from '../rpc.js'
import { ProtocolError } from '../status.js'

export const KEYS_PROTOCOL = '/dm2/keys/1.0.0'
export const KEYS_LIMITS: RpcLimits = { maxRequestBytes: 128 * 1024, maxResponseBytes: 4 * 1024, timeoutMs: 10_000 }
const MAX_STREAMS = 8
/** Largest wrapped key accepted in an answer (HPKE: 32-byte encapsulation + sealed key + tag). */
export const MAX_WRAPPED_KEY_BYTES = 1024

/** The data key of an LFN version and what access control needs to know about it. */
export interface KeyRecord {
  dataKey: Uint8Array
  resource: ResourceDescriptor
}

/** Where a trusted site keeps data keys. */
export interface DataKeyStore {
  get: (lfn: string, version: number) => Promise<KeyRecord | undefined>
  /** The stored data key alone, without describing the resource (cheaper than `get`, when there is a quicker way). */
  dataKey?: (lfn: string, version: number) => Promise<Uint8Array | undefined>
}

export interface KeyReleaseInit {
  keys: DataKeyStore
  access: AccessChecker
}

export interface KeyReleaseComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface KeyRequest {
  lfn: string
  version: number
  /** X25519 public key the data key is wrapped to. */
  recipient: Uint8Array
  /** `encodeAuthorization()` of an invocation for `keys/release` with `keyArguments(...)`. */
  auth: Uint8Array
}

export interface KeyRelease {
  request: (peer: PeerId, request: KeyRequest, options?: AbortOptions) => Promise<Uint8Array>
}

/** The arguments an invocation for `keys/release` must be bound to. */
export function keyArguments (lfn: string, version: number, recipient: Uint8Array): Uint8Array {
  return hashArguments({ lfn, version, recipient })
}

/** A key request's fields, checked; throws ProtocolError on anything else. */
export function parseKeyRequest (m: Record<string, unknown>): KeyRequest {
  const keys = Object.keys(m).sort().join(',')
  if (keys !== 'auth,lfn,recipient,version') throw new ProtocolError('unexpected fields')
  if (typeof m.lfn !== 'string' || m.lfn.length === 0 || m.lfn.length > 128) throw new ProtocolError('bad lfn')
  if (typeof m.version !== 'number' || !Number.isSafeInteger(m.version) || m.version < 0) throw new ProtocolError('bad version')
  if (!(m.recipient instanceof Uint8Array) || m.recipient.byteLength !== 32) throw new ProtocolError('bad recipient key')
  if (!(m.auth instanceof Uint8Array)) throw new ProtocolError('bad auth')
  return { lfn: m.lfn, version: m.version, recipient: m.recipient, auth: m.auth }
}

/**
 * The wrap of a data key for one key request, computed while the image is
 * built (`wrapAhead`): handed out only by `releaseKey`, after its access
 * check, and only if its key is the one stored for the version.
 */
export interface WrappedAhead {
  dataKey: Uint8Array
  wrapped: Promise<Uint8Array | undefined>
}

/** Starts wrapping `dataKey` for `req` (its file id, version and recipient); a failure reads as not done. */
export function wrapAhead (dataKey: Uint8Array, req: KeyRequest): WrappedAhead {
  const wrapped = wrapDataKey(dataKey, req.recipient, { fileId: req.lfn, version: req.version }).catch(() => undefined)
  return { dataKey, wrapped }
}

/**
 * The key release decision and its answer, whichever protocol carries the
 * request (this one, or `/dm2/image/1.0.0` handing the key out with the
 * manifest): access checked and audited as `keys/release` before the key is
 * handed out, then the key wrapped to the recipient. `ahead`: that wrap,
 * computed beforehand for this very request (`wrapAhead`); used only when
 * its key is the stored one (a build undone meanwhile drew another).
 * `judged`: this very request's release was already judged, allowed and
 * audited (protocols/image, when the key went ahead of the answer).
 */
export async function releaseKey (init: KeyReleaseInit, req: KeyRequest, remotePeer: PeerId, ahead?: WrappedAhead, judged = false): Promise<RpcReply> {
  const record = await init.keys.get(req.lfn, req.version)
  if (record === undefined) return { status: 'NOT_FOUND' }
  // Access first; the key is only touched once allowed.
  if (!judged) {
    const access = await authorize(init.access, req.auth, {
      command: 'keys/release',
      args: keyArguments(req.lfn, req.version, req.recipient),
      resource: record.resource,
      ability: 'image/read',
      remotePeer: remotePeer.toString()
    })
    if (!access.allowed) return access.reply
  }
  const early = ahead !== undefined && sameKey(ahead.dataKey, record.dataKey) ? await ahead.wrapped : undefined
  const wrapped = early ?? await wrapDataKey(record.dataKey, req.recipient, { fileId: req.lfn, version: req.version })
  return { status: 'OK', body: { wrapped } }
}

/** Two data keys are the same (compared in constant time). */
export function sameKey (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}

class KeyReleaseService implements KeyRelease, Startable {
  private readonly components: KeyReleaseComponents
  private readonly init: KeyReleaseInit
  private readonly log: Logger
  /** Requests beyond the stream limit wait here rather than fail. */
  private readonly outbound = new PeerQueues(MAX_STREAMS)

  constructor (components: KeyReleaseComponents, init: KeyReleaseInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('dm2:keys')
  }

  private readonly serve = async (m: Record<string, unknown>, connection: { remotePeer: PeerId }): Promise<RpcReply> => {
    const req = parseKeyRequest(m)
    const reply = await releaseKey(this.init, req, connection.remotePeer)
    if (reply.status === 'OK') this.log('released key of %s v%d to %p', req.lfn, req.version, connection.remotePeer)
    return reply
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(KEYS_PROTOCOL, rpcServer(KEYS_LIMITS, this.serve, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(KEYS_PROTOCOL)
  }

  async request (peer: PeerId, request: KeyRequest, options: AbortOptions = {}): Promise<Uint8Array> {
    const body = await this.outbound.run(peer, async () => {
      const stream = await this.components.connectionManager.openStream(peer, KEYS_PROTOCOL, options)
      return await rpcCall(stream, { ...request }, KEYS_LIMITS, options.signal)
    }, options.signal)
    if (!(body.wrapped instanceof Uint8Array) || body.wrapped.byteLength > MAX_WRAPPED_KEY_BYTES) throw new ProtocolError('bad key release answer')
    return body.wrapped
  }
}

export function keyRelease (init: KeyReleaseInit): (components: KeyReleaseComponents) => KeyRelease {
  return (components) => new KeyReleaseService(components, init)
}
