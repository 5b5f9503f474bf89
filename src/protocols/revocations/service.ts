/**
 * The revocation push service. A node that learns a new revocation — from its
 * own operator (`publish`) or from a peer — pushes it to connected members:
 * the originator to every one, a receiver once more to up to `fanOut` others
 * (never back to the sender). The revocation set de-duplicates by revoked id,
 * so each node forwards a revocation at most once and the flood dies out: on
 * any connected federation it reaches every node in one push round. A new
 * connection triggers a sync of the whole set both ways, so a node that was
 * away catches up.
 */
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { statusError } from '../status.js'
import {
  DEFAULT_FORWARD_FANOUT, MAX_INBOUND_STREAMS, MAX_NOTICES_PER_PUSH, MAX_OUTBOUND_STREAMS, MAX_QUEUED_PER_PEER,
  MESSAGE_TIMEOUT_MS, REVOCATIONS_PROTOCOL
} from './constants.js'
import type { ResultFrame } from './frames.js'
import { pushOnStream } from './push.js'
import { RevocationServer } from './server.js'
import type { PublishResult, RevocationSet, RevocationStats } from './types.js'

export interface RevocationPushInit {
  store: RevocationSet
  /** Peers a receiver forwards a new revocation to. */
  fanOut?: number
  messageTimeoutMs?: number
  /** Push the whole set to each newly connected peer (default true). */
  syncOnConnect?: boolean
  maxConcurrent?: number
}

export interface RevocationPushComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface RevocationPush {
  /** Stores a revocation notice (throws if refused) and pushes it to every connected member. */
  publish: (notice: Uint8Array, options?: { signal?: AbortSignal }) => Promise<PublishResult>
  /** Pushes notices to one peer; throws the typed status error unless every one is accepted. */
  push: (peer: PeerId, notices: readonly Uint8Array[], options?: { signal?: AbortSignal }) => Promise<ResultFrame>
  /** Pushes this node's whole set to one peer. */
  sync: (peer: PeerId, options?: { signal?: AbortSignal }) => Promise<void>
  readonly stats: RevocationStats
}

function shuffled<T> (items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = items[i] as T
    items[i] = items[j] as T
    items[j] = t
  }
  return items
}

export class RevocationPushService implements RevocationPush, Startable {
  readonly stats: RevocationStats = { received: 0, accepted: 0, refused: 0, pushed: 0, failed: 0, invalidFrames: 0, busy: 0 }
  private readonly components: RevocationPushComponents
  private readonly init: RevocationPushInit
  private readonly log: Logger
  private readonly server: RevocationServer
  /** Pushes to one peer run one after another (one outbound stream at a time). */
  private readonly queues = new Map<string, { tail: Promise<unknown>, length: number }>()
  private readonly background = new Set<Promise<unknown>>()
  private readonly controller = new AbortController()

  constructor (components: RevocationPushComponents, init: RevocationPushInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('dm2:revocations')
    this.server = new RevocationServer({
      store: init.store,
      stats: this.stats,
      log: this.log,
      timeoutMs: this.timeoutMs,
      ...(init.maxConcurrent === undefined ? {} : { maxConcurrent: init.maxConcurrent }),
      onFresh: (notices, from) => { this.forward(notices, from) }
    })
  }

  private get timeoutMs (): number { return this.init.messageTimeoutMs ?? MESSAGE_TIMEOUT_MS }

  async start (): Promise<void> {
    await this.components.registrar.handle(REVOCATIONS_PROTOCOL, this.server.handle, {
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS
    })
    if (this.init.syncOnConnect ?? true) this.components.events.addEventListener('peer:connect', this.onConnect)
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('peer:connect', this.onConnect)
    this.controller.abort()
    await this.components.registrar.unhandle(REVOCATIONS_PROTOCOL)
    await Promise.allSettled([...this.background])
  }

  private readonly onConnect = (event: CustomEvent<PeerId>): void => {
    this.track(this.sync(event.detail).catch(err => { this.log('sync with %p failed: %s', event.detail, (err as Error).name) }))
  }

  private track (work: Promise<unknown>): void {
    this.background.add(work)
    work.finally(() => this.background.delete(work)).catch(() => {})
  }

  private connectedPeers (): PeerId[] {
    const seen = new Map<string, PeerId>()
    for (const c of this.components.connectionManager.getConnections()) {
      if (c.status === 'open') seen.set(c.remotePeer.toString(), c.remotePeer)
    }
    return [...seen.values()]
  }

  async push (peer: PeerId, notices: readonly Uint8Array[], options: { signal?: AbortSignal } = {}): Promise<ResultFrame> {
    const key = peer.toString()
    const queue = this.queues.get(key) ?? { tail: Promise.resolve(), length: 0 }
    if (queue.length >= MAX_QUEUED_PER_PEER) {
      this.stats.failed++
      throw statusError('BUSY', 'QUEUE_FULL')
    }
    this.queues.set(key, queue)
    queue.length++
    const signal = AbortSignal.any([this.controller.signal, ...(options.signal === undefined ? [] : [options.signal])])
    const run = queue.tail.then(async () => {
      const stream = await this.components.connectionManager.openStream(peer, REVOCATIONS_PROTOCOL, { signal })
      try {
        return await pushOnStream(stream, notices, this.timeoutMs, signal)
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    })
    queue.tail = run.catch(() => {})
    try {
      const result = await run
      if (result.status !== 'OK') throw statusError(result.status, result.reason)
      this.stats.pushed++
      return result
    } catch (err) {
      this.stats.failed++
      throw err
    } finally {
      if (--queue.length === 0) this.queues.delete(key)
    }
  }

  async publish (notice: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<PublishResult> {
    const fresh = await this.init.store.add(notice)
    const peers = this.connectedPeers()
    const outcomes = await Promise.allSettled(peers.map(async peer => await this.push(peer, [notice], options)))
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'rejected') this.log('push to %p failed: %s', peers[i], (o.reason as Error).name)
    }
    return { fresh, peers: peers.length, delivered: outcomes.filter(o => o.status === 'fulfilled').length }
  }

  /** Forwards new notices once, to up to `fanOut` connected peers other than their sender. */
  private forward (notices: Uint8Array[], from: PeerId): void {
    const others = shuffled(this.connectedPeers().filter(p => !p.equals(from))).slice(0, this.init.fanOut ?? DEFAULT_FORWARD_FANOUT)
    for (const peer of others) {
      this.track(this.push(peer, notices).catch(err => { this.log('forward to %p failed: %s', peer, (err as Error).name) }))
    }
  }

  async sync (peer: PeerId, options: { signal?: AbortSignal } = {}): Promise<void> {
    const notices = (await this.init.store.list()).map(r => r.notice)
    for (let i = 0; i < notices.length; i += MAX_NOTICES_PER_PUSH) {
      await this.push(peer, notices.slice(i, i + MAX_NOTICES_PER_PUSH), options)
    }
  }
}
