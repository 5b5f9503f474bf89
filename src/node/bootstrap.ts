/**
 * Static bootstrap: keeps a connection open to every bootstrap peer named in
 * the config. A peer that is down at start, or drops later, is redialled with
 * exponential backoff, so hospitals can be started in any order.
 * (`@libp2p/bootstrap` dials once and gives up, which a federation whose sites
 * restart independently cannot rely on.)
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2pEvents, Logger, PeerId, TypedEventTarget } from '@libp2p/interface'

export interface BootstrapComponents {
  dial: (addr: Multiaddr, options: { signal: AbortSignal }) => Promise<Connection>
  isConnected: (peerId: PeerId) => boolean
  events: TypedEventTarget<Libp2pEvents>
  log: Logger
}

export interface BootstrapInit {
  /** `/…/tcp/N/p2p/<peer id>` addresses. */
  peers: string[]
  retryMs: number
  retryMaxMs: number
  /** Per dial attempt. */
  dialTimeoutMs?: number
}

interface Target {
  addr: Multiaddr
  peerId: PeerId
  delay: number
  timer?: NodeJS.Timeout
  dialing: boolean
}

export class Bootstrapper {
  private readonly components: BootstrapComponents
  private readonly init: BootstrapInit
  private readonly targets: Target[]
  private controller?: AbortController

  constructor (components: BootstrapComponents, init: BootstrapInit) {
    this.components = components
    this.init = init
    this.targets = init.peers.map(s => {
      const addr = multiaddr(s)
      return { addr, peerId: peerIdFromString(s.slice(s.lastIndexOf('/p2p/') + 5)), delay: init.retryMs, dialing: false }
    })
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    for (const t of this.targets) {
      if (t.peerId.equals(evt.detail)) this.schedule(t, this.init.retryMs)
    }
  }

  start (): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    for (const t of this.targets) this.schedule(t, 0)
  }

  stop (): void {
    this.controller?.abort()
    this.controller = undefined
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const t of this.targets) clearTimeout(t.timer)
  }

  private schedule (t: Target, delay: number): void {
    if (this.controller === undefined || t.dialing) return
    clearTimeout(t.timer)
    t.timer = setTimeout(() => { this.attempt(t).catch(() => {}) }, delay)
    t.timer.unref()
  }

  private async attempt (t: Target): Promise<void> {
    const controller = this.controller
    if (controller === undefined || this.components.isConnected(t.peerId)) return
    t.dialing = true
    let failure: Error | undefined
    try {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(this.init.dialTimeoutMs ?? 10_000)])
      await this.components.dial(t.addr, { signal })
      t.delay = this.init.retryMs
      this.components.log('connected to bootstrap peer %p', t.peerId)
    } catch (err) {
      failure = err as Error
    } finally {
      t.dialing = false
    }
    if (failure === undefined || controller.signal.aborted) return
    this.components.log('bootstrap peer %p unreachable (%s), retrying in %d ms', t.peerId, failure.name, t.delay)
    const delay = t.delay
    t.delay = Math.min(t.delay * 2, this.init.retryMaxMs)
    this.schedule(t, delay)
  }
}
