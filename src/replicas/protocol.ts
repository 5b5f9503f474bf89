/**
 * `/dm2/replicate/1.0.0`: a master asks a storage site to hold a replica of
 * one LFN version. Request (canonical CBOR map): `lfn`, `version`, `manifest`
 * (the master's signed manifest), `ticket` (see ticket.ts), `sources` (peer
 * ids of existing holders, extra chunk sources). The storage site checks, in
 * this order and before fetching anything: the requester is a roster member,
 * this site has the storage role, the manifest's signature verifies and its
 * master is the requester (authenticated by noise), the manifest is of that
 * lfn@version, the ticket is the master's for this site and content id; then
 * it pulls the chunks from the master and the named holders with the chunk
 * protocol (the ticket as authorization), commits, and provides the content
 * id in the DHT. Answer: OK `{ chunks, fetched }` or DENIED with a reason.
 */
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { peerIdFromString } from '@libp2p/peer-id'
import type { CID } from 'multiformats/cid'
import { contentIdToCid, verifySignedManifest, type Manifest } from '../privacy/payload/index.js'
import type { FetchOptions } from '../protocols/chunks/index.js'
import type { FetchChunksResult } from '../protocols/chunks/fetch.js'
import { rpcCall, rpcServer, type RpcReply } from '../protocols/rpc.js'
import { ProtocolError } from '../protocols/status.js'
import { MAX_EXTRA_SOURCES, MAX_LFN_LENGTH, REPLICATE_LIMITS, REPLICATE_MAX_STREAMS, REPLICATE_PROTOCOL } from './constants.js'
import type { ReplicaStore } from './store.js'
import { openTicket } from './ticket.js'

export interface ReplicateRequest {
  lfn: string
  version: number
  manifest: Uint8Array
  ticket: Uint8Array
  sources: string[]
}

export interface ReplicateResult { chunks: number, fetched: number }

export interface ReplicateInit {
  store: ReplicaStore
  isMember: (peer: string) => boolean
  isStorage: (peer: string) => boolean
  /** The chunk protocol's multi-source fetch (`libp2p.services.chunks.fetch`, bound late). */
  fetch: (options: FetchOptions) => Promise<FetchChunksResult>
  /** Announces the content id in the DHT (`localization.provide`). */
  provide: (cid: CID, options?: AbortOptions) => Promise<void>
  now?: () => number
}

export interface ReplicateComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
  peerId: PeerId
}

export interface Replicate {
  /** Asks `peer` to hold a replica; resolves once it holds and announced it. */
  request: (peer: PeerId, request: ReplicateRequest, options?: AbortOptions) => Promise<ReplicateResult>
}

export function parseReplicateRequest (m: Record<string, unknown>): ReplicateRequest {
  if (Object.keys(m).sort().join(',') !== 'lfn,manifest,sources,ticket,version') throw new ProtocolError('unexpected fields')
  if (typeof m.lfn !== 'string' || m.lfn.length === 0 || m.lfn.length > MAX_LFN_LENGTH) throw new ProtocolError('bad lfn')
  if (typeof m.version !== 'number' || !Number.isSafeInteger(m.version) || m.version < 0) throw new ProtocolError('bad version')
  if (!(m.manifest instanceof Uint8Array) || !(m.ticket instanceof Uint8Array)) throw new ProtocolError('bad manifest or ticket')
  if (!Array.isArray(m.sources) || m.sources.length > MAX_EXTRA_SOURCES || !m.sources.every(s => typeof s === 'string' && s.length < 128)) throw new ProtocolError('bad sources')
  return { lfn: m.lfn, version: m.version, manifest: m.manifest, ticket: m.ticket, sources: m.sources as string[] }
}

const deny = (reason: string): RpcReply => ({ status: 'DENIED', reason })

class ReplicateService implements Replicate, Startable {
  private readonly components: ReplicateComponents
  private readonly init: ReplicateInit
  private readonly log: Logger
  private readonly inFlight = new Map<string, Promise<ReplicateResult>>()

  constructor (components: ReplicateComponents, init: ReplicateInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('dm2:replicate')
  }

  private readonly serve = async (m: Record<string, unknown>, connection: Connection, signal: AbortSignal): Promise<RpcReply> => {
    const req = parseReplicateRequest(m)
    const requester = connection.remotePeer.toString()
    const self = this.components.peerId.toString()
    if (!this.init.isMember(requester)) return deny('NOT_MEMBER')
    if (!this.init.isStorage(self)) return deny('NOT_STORAGE')
    let manifest: Manifest
    try {
      manifest = await verifySignedManifest(req.manifest)
    } catch (err) {
      return (err as Error).name === 'ManifestSignatureError' ? deny('BAD_SIGNATURE') : { status: 'INVALID' }
    }
    // Only the master places replicas of its data (PS: the requester is authenticated by noise).
    if (manifest.master !== requester) return deny('NOT_MASTER')
    if (manifest.fileId !== req.lfn || manifest.version !== req.version) return { status: 'INVALID' }
    try {
      const ticket = await openTicket(req.ticket, this.init.now?.() ?? Date.now())
      if (ticket.holder !== self || ticket.master !== requester || Buffer.compare(ticket.contentId, manifest.merkleRoot) !== 0) return deny('BAD_TICKET')
    } catch {
      return deny('BAD_TICKET')
    }
    const held = this.init.store.entryByLfn(req.lfn)
    if (held !== undefined && held.version > req.version) return deny('STALE_VERSION')
    const cid = Buffer.from(manifest.merkleRoot).toString('hex')
    let running = this.inFlight.get(cid)
    if (running === undefined) {
      running = this.pull(req, manifest, signal).finally(() => this.inFlight.delete(cid))
      this.inFlight.set(cid, running)
    }
    return { status: 'OK', body: { ...await running } }
  }

  private async pull (req: ReplicateRequest, manifest: Manifest, signal: AbortSignal): Promise<ReplicateResult> {
    const { store } = this.init
    const self = this.components.peerId.toString()
    let fetched = 0
    if (store.entryOf(manifest.merkleRoot) === undefined) {
      const extra = [...new Set(req.sources)].filter(s => s !== self && s !== manifest.master && this.init.isMember(s))
      const sources = [manifest.master, ...extra].map(s => peerIdFromString(s))
      const result = await this.init.fetch({
        contentId: manifest.merkleRoot,
        chunks: manifest.chunks.map((c, index) => ({ index, id: c.id })),
        sources,
        sink: await store.sink(manifest.merkleRoot),
        auth: async () => req.ticket,
        signal
      })
      fetched = result.fetched
      const previous = store.entryByLfn(req.lfn)
      await store.commit(manifest, req.manifest)
      if (previous !== undefined && previous.version < manifest.version) this.log('dropped replica of %s v%d (superseded by v%d)', req.lfn, previous.version, manifest.version)
    }
    this.log('holding replica of %s v%d for %s', req.lfn, req.version, manifest.master)
    await this.init.provide(contentIdToCid(manifest.merkleRoot), { signal }).catch((err: Error) => {
      this.log.error('provide of %s failed: %s', req.lfn, err.message)
    })
    return { chunks: manifest.chunks.length, fetched }
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(REPLICATE_PROTOCOL, rpcServer(REPLICATE_LIMITS, this.serve, this.log), {
      maxInboundStreams: REPLICATE_MAX_STREAMS, maxOutboundStreams: REPLICATE_MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(REPLICATE_PROTOCOL)
  }

  async request (peer: PeerId, request: ReplicateRequest, options: AbortOptions = {}): Promise<ReplicateResult> {
    const stream = await this.components.connectionManager.openStream(peer, REPLICATE_PROTOCOL, options)
    const body = await rpcCall(stream, { ...request }, REPLICATE_LIMITS, options.signal)
    if (typeof body.chunks !== 'number' || typeof body.fetched !== 'number') throw new ProtocolError('bad replicate answer')
    return { chunks: body.chunks, fetched: body.fetched }
  }
}

/** The libp2p service: `services: { replicate: replicateService({ store, isMember, isStorage, fetch, provide }) }`. */
export function replicateService (init: ReplicateInit): (components: ReplicateComponents) => Replicate {
  return (components) => new ReplicateService(components, init)
}
