/**
 * `/dm2/image/1.0.0`: a requester asks the master site of an LFN to prepare
 * its current version (assemble, de-identify, encrypt, cache, announce) and
 * receives the signed manifest; it then pulls the chunks from the master and
 * any replicas over `/dm2/chunks/1.0.0`. Access (`image/read`) is checked
 * before any work. `format` (optional): `nifti` (the assembled volume,
 * default) or `dicom` (the series' objects, each de-identified); both are
 * bound into the invocation's arguments, so a grant for one request cannot
 * be replayed for the other.
 *
 * `key` (optional): a whole `/dm2/keys/1.0.0` request (its own invocation for
 * `keys/release`, bound to the file id, the version the requester expects and
 * its recipient key). When it names the version just prepared, the master
 * runs the key release there and then (the same access check, audited as
 * `keys/release`) and answers the wrapped key with the manifest: one round
 * trip fewer, and no second request competing with the chunks. Otherwise,
 * or when the release is refused, the answer has no key and the requester
 * asks over `/dm2/keys/1.0.0`, whose typed answer then says why.
 */
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { hashArguments, type ResourceDescriptor } from '../../sac/index.js'
import { MAX_WRAPPED_KEY_BYTES, parseKeyRequest, releaseKey, type KeyReleaseInit, type KeyRequest } from '../keys/index.js'
import { authorize, type AccessChecker } from '../authorize.js'
import { PeerQueues } from '../peer-queues.js'
import { asMap, rpcCall, rpcServer, type RpcLimits, type RpcReply } from '../rpc.js'
import { ProtocolError } from '../status.js'

export const IMAGE_PROTOCOL = '/dm2/image/1.0.0'
export const IMAGE_LIMITS: RpcLimits = { maxRequestBytes: 128 * 1024, maxResponseBytes: 1024 * 1024, timeoutMs: 120_000 }
const MAX_STREAMS = 16

export interface ImageServerInit {
  /** What access control needs to know about the LFN's current version, or undefined if unknown here. */
  resourceOf: (lfn: string) => Promise<ResourceDescriptor | undefined>
  /** `fileId`: what the version was sealed and keyed as (the LFN, or a derived id for another format). */
  prepare: (lfn: string, options: AbortOptions & { format: ImageFormat }) => Promise<{ fileId: string, version: number, manifest: Uint8Array }>
  access: AccessChecker
  /** Key release handed out with the answer (see the module doc); without it, `key` requests get no key. */
  keys?: KeyReleaseInit
}

export interface ImageComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface ImageRequest {
  lfn: string
  auth: Uint8Array
  format?: ImageFormat
  /** A key release request for the version expected (its `lfn` is the file id: see `imageId`). */
  key?: KeyRequest
}

export interface ImageAnswer {
  version: number
  manifest: Uint8Array
  /** The data key wrapped to `key.recipient`, when the key request was for this version and allowed. */
  wrapped?: Uint8Array
}

export interface ImageRequester {
  /** Asks `peer` (the master) to prepare `lfn`; returns the version and signed manifest (and the wrapped key, see ImageRequest.key). */
  prepare: (peer: PeerId, request: ImageRequest, options?: AbortOptions) => Promise<ImageAnswer>
}

const REQUEST_FIELDS: ReadonlySet<string> = new Set(['auth', 'lfn', 'format', 'key'])

export type ImageFormat = 'nifti' | 'dicom'

/** The arguments an invocation is bound to; the volume keeps the original form (no format) for compatibility. */
export function imageArguments (lfn: string, format: ImageFormat = 'nifti'): Uint8Array {
  return format === 'nifti' ? hashArguments({ lfn }) : hashArguments({ lfn, format })
}

class ImageService implements ImageRequester, Startable {
  private readonly components: ImageComponents
  private readonly init: ImageServerInit
  private readonly log: Logger
  /** Requests beyond the stream limit wait here rather than fail. */
  private readonly outbound = new PeerQueues(MAX_STREAMS)

  constructor (components: ImageComponents, init: ImageServerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('dm2:image')
  }

  private readonly serve = async (m: Record<string, unknown>, connection: { remotePeer: PeerId }, signal: AbortSignal): Promise<RpcReply> => {
    const fields = new Set(Object.keys(m))
    if (!fields.has('auth') || !fields.has('lfn') || [...fields].some(f => !REQUEST_FIELDS.has(f))) throw new ProtocolError('unexpected fields')
    if (typeof m.lfn !== 'string' || m.lfn.length === 0 || m.lfn.length > 128 || !(m.auth instanceof Uint8Array)) throw new ProtocolError('bad request')
    const format = m.format ?? 'nifti'
    if (format !== 'nifti' && format !== 'dicom') throw new ProtocolError('unknown format')
    // Checked before any work, like everything else in the request.
    const keyRequest = m.key === undefined ? undefined : parseKeyRequest(asMap(m.key))
    const resource = await this.init.resourceOf(m.lfn)
    if (resource === undefined) return { status: 'NOT_FOUND' }
    const access = await authorize(this.init.access, m.auth, {
      command: 'image/prepare',
      args: imageArguments(m.lfn, format),
      resource,
      ability: 'image/read',
      remotePeer: connection.remotePeer.toString()
    })
    if (!access.allowed) return access.reply
    let prepared
    try {
      prepared = await this.init.prepare(m.lfn, { signal, format })
    } catch (err) {
      // Admission control said no: the requester may retry later.
      if ((err as Error).name === 'BusyError') return { status: 'BUSY' }
      if ((err as Error).name === 'UnknownLfnError') return { status: 'NOT_FOUND' }
      throw err
    }
    this.log('prepared %s v%d for %p', m.lfn, prepared.version, connection.remotePeer)
    const body: Record<string, unknown> = { version: prepared.version, manifest: prepared.manifest }
    const keys = this.init.keys
    if (keyRequest !== undefined && keys !== undefined && keyRequest.lfn === prepared.fileId && keyRequest.version === prepared.version) {
      const released = await releaseKey(keys, keyRequest, connection.remotePeer)
      // Refused or not found: no key here; the requester's own key request gets the typed answer.
      if (released.status === 'OK') {
        body.wrapped = released.body.wrapped
        this.log('released key of %s v%d to %p', keyRequest.lfn, keyRequest.version, connection.remotePeer)
      }
    }
    return { status: 'OK', body }
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(IMAGE_PROTOCOL, rpcServer(IMAGE_LIMITS, this.serve, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(IMAGE_PROTOCOL)
  }

  async prepare (peer: PeerId, request: ImageRequest, options: AbortOptions = {}): Promise<ImageAnswer> {
    const message: Record<string, unknown> = { lfn: request.lfn, auth: request.auth }
    // The volume's request keeps its original form (no format field).
    if (request.format !== undefined && request.format !== 'nifti') message.format = request.format
    if (request.key !== undefined) message.key = { ...request.key }
    const body = await this.outbound.run(peer, async () => {
      const stream = await this.components.connectionManager.openStream(peer, IMAGE_PROTOCOL, options)
      return await rpcCall(stream, message, IMAGE_LIMITS, options.signal)
    }, options.signal)
    if (typeof body.version !== 'number' || !(body.manifest instanceof Uint8Array)) throw new ProtocolError('bad image answer')
    const answer: ImageAnswer = { version: body.version, manifest: body.manifest }
    if (body.wrapped !== undefined) {
      if (!(body.wrapped instanceof Uint8Array) || body.wrapped.byteLength > MAX_WRAPPED_KEY_BYTES) throw new ProtocolError('bad wrapped key in the image answer')
      answer.wrapped = body.wrapped
    }
    return answer
  }
}

export function imageService (init: ImageServerInit): (components: ImageComponents) => ImageRequester {
  return (components) => new ImageService(components, init)
}
