/**
 * Keeps every connected federation member in the DHT routing table.
 *
 * kad-dht adds a peer to its routing table when identify reports that the
 * peer speaks the DHT protocol. If that one identify exchange fails (it has
 * a timeout, and a site under load at start-up can miss it), the peer stays
 * connected but out of the table until the connection is closed and opened
 * again: lookups then route around a live member, and a small federation
 * can lose the only path to a record. Every `intervalMs`, each open
 * connection to a roster member missing from the table is identified again,
 * which lets kad-dht add it.
 */
import type { Connection, Logger, PeerId } from '@libp2p/interface'

export interface RoutingKeeperComponents {
  connections: () => Connection[]
  /** Whether the routing table holds the peer. */
  inTable: (peer: PeerId) => Promise<boolean>
  isMember: (peer: string) => boolean
  identify: (connection: Connection, options: { signal: AbortSignal }) => Promise<unknown>
  log: Logger
}

export interface RoutingKeeperInit {
  intervalMs: number
  /** Per identify exchange. */
  timeoutMs: number
}

/** How often the routing table is compared with the open connections. */
export const ROUTING_CHECK_MS = 5_000
export const ROUTING_IDENTIFY_TIMEOUT_MS = 5_000

export class RoutingKeeper {
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private readonly controller = new AbortController()

  constructor (private readonly components: RoutingKeeperComponents, private readonly init: RoutingKeeperInit) {}

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      this.running ??= this.check().then(() => {}, () => {}).finally(() => { this.running = undefined })
    }, this.init.intervalMs)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    this.controller.abort()
    await this.running
  }

  /** One pass: returns how many connections were identified again. */
  async check (): Promise<number> {
    const { components: c } = this
    let identified = 0
    for (const connection of c.connections()) {
      if (this.controller.signal.aborted) break
      const peer = connection.remotePeer
      if (connection.status !== 'open' || !c.isMember(peer.toString()) || await c.inTable(peer)) continue
      try {
        const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.timeoutMs)])
        await c.identify(connection, { signal })
        identified++
        c.log('identified %p again: it was connected but not in the routing table', peer)
      } catch (err) {
        c.log('identifying %p again failed: %s', peer, (err as Error).name)
      }
    }
    return identified
  }
}

/** What the keeper uses of a node's libp2p. */
export interface KeeperLibp2p {
  getConnections: () => Connection[]
  services: {
    dht: unknown
    identify: { identify: (connection: Connection, options: { signal: AbortSignal }) => Promise<unknown> }
  }
}

/** A started keeper over a node's libp2p, checking every ROUTING_CHECK_MS. */
export function startRoutingKeeper (libp2p: KeeperLibp2p, isMember: (peer: string) => boolean, log: Logger): RoutingKeeper {
  // kad-dht's routing table class (its public type only has `size`): a lookup by peer.
  const table = (libp2p.services.dht as { routingTable?: { find?: (peer: PeerId) => Promise<PeerId | undefined> } }).routingTable
  const keeper = new RoutingKeeper({
    connections: () => libp2p.getConnections(),
    inTable: async (peer) => table?.find === undefined || (await table.find(peer)) !== undefined,
    isMember,
    identify: async (connection, options) => await libp2p.services.identify.identify(connection, options),
    log
  }, { intervalMs: ROUTING_CHECK_MS, timeoutMs: ROUTING_IDENTIFY_TIMEOUT_MS })
  keeper.start()
  return keeper
}
