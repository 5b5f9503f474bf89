/** The libp2p service: registers the handler, asks one site, fans out. */
import type { AbortOptions, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import { rpcCall, rpcServer, type RpcLimits } from '../rpc.js'
import { statusError } from '../status.js'
import { MAX_STREAMS, QUERY_LIMITS, QUERY_PROTOCOL } from './constants.js'
import { SiteUnreachableError } from './errors.js'
import { fanOut } from './fan-out.js'
import { queryHandler, resolveServerLimits, type QueryHandler } from './server.js'
import { encodeRequest, parseAnswer } from './wire.js'
import type { FanOutOptions, FanOutResult, MetadataQuery, MetadataQueryComponents, MetadataQueryInit, SiteAnswer, SiteRequest } from './types.js'

export class MetadataQueryService implements MetadataQuery, Startable {
  private readonly components: MetadataQueryComponents
  private readonly log: Logger
  private readonly limits: RpcLimits
  private readonly handler: QueryHandler

  constructor (components: MetadataQueryComponents, init: MetadataQueryInit) {
    this.components = components
    this.log = components.logger.forComponent('dm2:query')
    const limits = resolveServerLimits(init.limits)
    this.limits = { ...QUERY_LIMITS, maxResponseBytes: limits.maxResponseBytes, timeoutMs: limits.timeoutMs }
    this.handler = queryHandler(init, this.log)
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(QUERY_PROTOCOL, rpcServer(this.limits, this.handler, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(QUERY_PROTOCOL)
  }

  async ask (peer: PeerId, request: SiteRequest, options: AbortOptions = {}): Promise<SiteAnswer> {
    if (peer.equals(this.components.peerId)) return await this.askSelf(request, options)
    let stream: Stream
    try {
      stream = await this.components.connectionManager.openStream(peer, QUERY_PROTOCOL, options)
    } catch (err) {
      if (options.signal?.aborted === true) throw err
      throw new SiteUnreachableError(peer.toString(), { cause: err })
    }
    const body = await rpcCall(stream, encodeRequest(request), QUERY_LIMITS, options.signal)
    return parseAnswer(body, request)
  }

  /**
   * This site, asked in-process (a node cannot dial itself): the same request
   * encoding, handler, access check and answer checks as over the wire.
   */
  private async askSelf (request: SiteRequest, options: AbortOptions): Promise<SiteAnswer> {
    const timeout = AbortSignal.timeout(this.limits.timeoutMs)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    let reply
    try {
      reply = await this.handler(encodeRequest(request), { remotePeer: this.components.peerId }, signal)
    } catch (err) {
      throw statusError((err as Error).name === 'ProtocolError' ? 'INVALID' : 'ERROR')
    }
    signal.throwIfAborted()
    if (reply.status !== 'OK') throw statusError(reply.status, reply.reason)
    return parseAnswer(reply.body, request)
  }

  async fanOut (options: FanOutOptions): Promise<FanOutResult> {
    return await fanOut(async (peer, request, opts) => await this.ask(peer, request, opts), options)
  }
}
