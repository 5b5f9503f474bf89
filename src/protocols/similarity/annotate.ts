/**
 * `/dm2/annotate/1.0.0`: a clinician attaches a signed diagnosis to an LFN at
 * its master site.
 *
 *   request  { auth, record }     record = createDiagnosis(…) envelope
 *   answer   { id }               the stored record's id
 *
 * The site verifies the record, looks the LFN up, checks the invocation
 * (command `annotate`, arguments bound to the record, ability `annotate`,
 * the LFN's descriptor as the resource; the decision is audited), and only
 * then stores it — the store also requires author = invoker and the record's
 * certificate = the chain's leaf.
 */
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { decodeAuthorization, hashArguments, type AccessRequest, type Authorization, type Decision, type ResourceDescriptor } from '../../sac/index.js'
import { DiagnosisRefusedError, InvalidDiagnosisError, openDiagnosis, type Diagnosis } from '../../similarity/diagnoses.js'
import { rpcCall, rpcServer, type RpcLimits, type RpcReply } from '../rpc.js'
import { ProtocolError, statusError } from '../status.js'
import { ANNOTATE_COMMAND, ANNOTATE_LIMITS, ANNOTATE_PROTOCOL, MAX_STREAMS } from './constants.js'

export interface AnnotationInit {
  access: { check: (request: AccessRequest) => Promise<Decision> }
  /** The master site's diagnosis store (src/similarity/diagnoses.ts). */
  diagnoses: { add: (record: Uint8Array, decision: Decision) => Promise<Diagnosis> }
  /** The descriptor of an LFN this site is master of, or undefined. */
  resource: (lfn: string) => Promise<ResourceDescriptor | undefined>
  limits?: Partial<RpcLimits>
}

export interface AnnotationComponents {
  /** This node: a diagnosis for an LFN it masters is attached in-process (a node cannot dial itself). */
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface AnnotateRequest {
  /** `createDiagnosis()` bytes, signed by the clinician. */
  record: Uint8Array
  /** `encodeAuthorization()` of an invocation for `annotate` bound to `annotateArguments(record)`. */
  auth: Uint8Array
}

export interface Annotation {
  /** Attaches the diagnosis at `peer` (the LFN's master); resolves the record id. Throws the typed status errors. */
  annotate: (peer: PeerId, request: AnnotateRequest, options?: AbortOptions) => Promise<string>
}

/** The arguments an invocation for `annotate` must be bound to. */
export function annotateArguments (record: Uint8Array): Uint8Array {
  return hashArguments({ record })
}

function parseRequest (m: Record<string, unknown>): AnnotateRequest {
  if (Object.keys(m).sort().join(',') !== 'auth,record') throw new ProtocolError('unexpected fields')
  if (!(m.auth instanceof Uint8Array) || !(m.record instanceof Uint8Array)) throw new ProtocolError('bad fields')
  return { auth: m.auth, record: m.record }
}

class AnnotationService implements Annotation, Startable {
  private readonly components: AnnotationComponents
  private readonly init: AnnotationInit
  private readonly limits: RpcLimits
  private readonly log: Logger

  constructor (components: AnnotationComponents, init: AnnotationInit) {
    this.components = components
    this.init = init
    this.limits = {
      maxRequestBytes: init.limits?.maxRequestBytes ?? ANNOTATE_LIMITS.maxRequestBytes,
      maxResponseBytes: init.limits?.maxResponseBytes ?? ANNOTATE_LIMITS.maxResponseBytes,
      timeoutMs: init.limits?.timeoutMs ?? ANNOTATE_LIMITS.timeoutMs
    }
    this.log = components.logger.forComponent('dm2:annotate')
  }

  private readonly serve = async (m: Record<string, unknown>, connection: { remotePeer: PeerId }): Promise<RpcReply> => {
    const req = parseRequest(m)
    let auth: Authorization
    let diagnosis: Diagnosis
    try {
      auth = decodeAuthorization(req.auth)
      diagnosis = openDiagnosis(req.record)
    } catch {
      return { status: 'INVALID' }
    }
    const resource = await this.init.resource(diagnosis.lfn)
    if (resource === undefined) return { status: 'NOT_FOUND' }
    const decision = await this.init.access.check({
      invocation: auth.invocation,
      chain: auth.chain,
      memberships: auth.memberships,
      command: ANNOTATE_COMMAND,
      args: annotateArguments(req.record),
      resource: { ...resource, lfn: diagnosis.lfn },
      ability: 'annotate',
      remotePeer: connection.remotePeer.toString()
    })
    if (!decision.allow) return { status: 'DENIED', reason: decision.reason }
    try {
      const stored = await this.init.diagnoses.add(req.record, decision)
      this.log('diagnosis %s attached to %s by %s', stored.id, stored.lfn, decision.requester)
      return { status: 'OK', body: { id: stored.id } }
    } catch (err) {
      if (err instanceof DiagnosisRefusedError) return { status: 'DENIED', reason: err.reason }
      if (err instanceof InvalidDiagnosisError) return { status: 'INVALID' }
      throw err
    }
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(ANNOTATE_PROTOCOL, rpcServer(this.limits, this.serve, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(ANNOTATE_PROTOCOL)
  }

  /** The same handler, access check (audited) and store as over the wire, for an LFN this node masters. */
  private async askSelf (request: AnnotateRequest, options: AbortOptions): Promise<Record<string, unknown>> {
    options.signal?.throwIfAborted()
    let reply: RpcReply
    try {
      reply = await this.serve({ record: request.record, auth: request.auth }, { remotePeer: this.components.peerId })
    } catch (err) {
      throw statusError(err instanceof ProtocolError ? 'INVALID' : 'ERROR')
    }
    if (reply.status !== 'OK') throw statusError(reply.status, reply.reason)
    return reply.body
  }

  async annotate (peer: PeerId, request: AnnotateRequest, options: AbortOptions = {}): Promise<string> {
    let body: Record<string, unknown>
    if (peer.equals(this.components.peerId)) {
      body = await this.askSelf(request, options)
    } else {
      const stream = await this.components.connectionManager.openStream(peer, ANNOTATE_PROTOCOL, options)
      body = await rpcCall(stream, { record: request.record, auth: request.auth }, this.limits, options.signal)
    }
    if (typeof body.id !== 'string' || !/^[0-9a-f]{64}$/.test(body.id)) throw new ProtocolError('bad annotate answer')
    return body.id
  }
}

export function diagnosisAnnotation (init: AnnotationInit): (components: AnnotationComponents) => Annotation {
  return (components) => new AnnotationService(components, init)
}
