/**
 * `/dm2/image/1.0.0`: a requester asks the master site of an LFN to prepare
 * its current version (assemble, de-identify, encrypt, cache, announce) and
 * receives the signed manifest; it then pulls the chunks from the master and
 * any replicas over `/dm2/chunks/1.0.0` and asks for the key over
 * `/dm2/keys/1.0.0`. Access (`image/read`) is checked before any work.
 * `format` (optional): `nifti` (the assembled volume, default) or `dicom`
 * (the series' objects, each de-identified); both are bound into the
 * invocation's arguments, so a grant for one request cannot be replayed for
 * the other.
 */
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { hashArguments, type ResourceDescriptor } from '../../sac/index.js'
import { authorize, type AccessChecker } from '../authorize.js'
import { PeerQueues } from '../peer-queues.js'
import { rpcCall, rpcServer, type RpcLimits, type RpcReply } from '../rpc.js'
import { ProtocolError } from '../status.js'

export const IMAGE_PROTOCOL = '/dm2/image/1.0.0'
export const IMAGE_LIMITS: RpcLimits = { maxRequestBytes: 128 * 1024, maxResponseBytes: 1024 * 1024, timeoutMs: 120_000 }
const MAX_STREAMS = 16

export interface ImageServerInit {
  /** What access control needs to know about the LFN's current version, or undefined if unknown here. */
  resourceOf: (lfn: string) => Promise<ResourceDescriptor | undefined>
  prepare: (lfn: string, options: AbortOptions & { format: ImageFormat }) => Promise<{ version: number, manifest: Uint8Array }>
  access: AccessChecker
}

export interface ImageComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface ImageRequester {
  /** Asks `peer` (the master) to prepare `lfn`; returns the version and signed manifest. */
  prepare: (peer: PeerId, request: { lfn: string, auth: Uint8Array, format?: ImageFormat }, options?: AbortOptions) => Promise<{ version: number, manifest: Uint8Array }>
}

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
    const fields = Object.keys(m).sort().join(',')
    if (fields !== 'auth,lfn' && fields !== 'auth,format,lfn') throw new ProtocolError('unexpected fields')
    if (typeof m.lfn !== 'string' || m.lfn.length === 0 || m.lfn.length > 128 || !(m.auth instanceof Uint8Array)) throw new ProtocolError('bad request')
    const format = m.format ?? 'nifti'
    if (format !== 'nifti' && format !== 'dicom') throw new ProtocolError('unknown format')
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
    return { status: 'OK', body: { version: prepared.version, manifest: prepared.manifest } }
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(IMAGE_PROTOCOL, rpcServer(IMAGE_LIMITS, this.serve, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(IMAGE_PROTOCOL)
  }

  async prepare (peer: PeerId, request: { lfn: string, auth: Uint8Array, format?: ImageFormat }, options: AbortOptions = {}): Promise<{ version: number, manifest: Uint8Array }> {
    const body = await this.outbound.run(peer, async () => {
      const stream = await this.components.connectionManager.openStream(peer, IMAGE_PROTOCOL, options)
      const format = request.format ?? 'nifti'
      return await rpcCall(stream, format === 'nifti' ? { lfn: request.lfn, auth: request.auth } : { lfn: request.lfn, auth: request.auth, format }, IMAGE_LIMITS, options.signal)
    }, options.signal)
    if (typeof body.version !== 'number' || !(body.manifest instanceof Uint8Array)) throw new ProtocolError('bad image answer')
    return { version: body.version, manifest: body.manifest }
  }
}

export function imageService (init: ImageServerInit): (components: ImageComponents) => ImageRequester {
  return (components) => new ImageService(components, init)
}
