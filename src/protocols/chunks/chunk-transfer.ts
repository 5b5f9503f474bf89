/** The chunk-transfer libp2p service: serves chunks and fetches them from several sources. */
import type { ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { CHUNKS_PROTOCOL, MAX_INBOUND_STREAMS, MAX_OUTBOUND_STREAMS } from './constants.js'
import { PeerQueues } from '../peer-queues.js'
import { fetchChunks, type FetchChunksOptions, type FetchChunksResult } from './fetch.js'
import { ChunkServer, type ChunkServerStats } from './server.js'
import type { ChunkAuthorizer, ChunkStore } from './types.js'

export interface ChunkTransferInit {
  store: ChunkStore
  authorize: ChunkAuthorizer
  maxConcurrent?: number
  maxPerPeer?: number
  messageTimeoutMs?: number
}

export interface ChunkTransferComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export type FetchOptions = Omit<FetchChunksOptions, 'open' | 'log'>

export interface ChunkTransfer {
  /** Fetches chunks of one content id from several sources in parallel. */
  fetch: (options: FetchOptions) => Promise<FetchChunksResult>
  readonly stats: ChunkServerStats
}

export class ChunkTransferService implements ChunkTransfer, Startable {
  private readonly components: ChunkTransferComponents
  private readonly server: ChunkServer
  private readonly log: Logger

  constructor (components: ChunkTransferComponents, init: ChunkTransferInit) {
    this.components = components
    this.log = components.logger.forComponent('dm2:chunks')
    this.server = new ChunkServer({ ...init, log: this.log })
  }

  /** Batches beyond the outbound stream limit to one peer wait here rather than fail. */
  private readonly outbound = new PeerQueues(MAX_OUTBOUND_STREAMS)

  get stats (): ChunkServerStats { return this.server.stats }

  async start (): Promise<void> {
    await this.components.registrar.handle(CHUNKS_PROTOCOL, this.server.handle, {
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(CHUNKS_PROTOCOL)
  }

  async fetch (options: FetchOptions): Promise<FetchChunksResult> {
    return await fetchChunks({
      ...options,
      log: this.log,
      open: async (peer: PeerId, signal: AbortSignal) => await this.components.connectionManager.openStream(peer, CHUNKS_PROTOCOL, { signal }),
      slot: async (peer, job, signal) => await this.outbound.run(peer, job, signal)
    })
  }
}
