/**
 * The simulated network: one shaping proxy in front of each site's libp2p
 * port (the site announces the proxy's address), and each site's access link
 * as a pair of token buckets shared by all its connections. The proxy knows
 * the calling site by its source address (see source-address.ts), so a
 * connection from a to b is shaped by a's uplink and b's downlink whichever
 * side dialled. Links can be changed, and sites partitioned, while running.
 */
import type { Socket } from 'node:net'
import { seededRandom, ShapingProxy, TokenBucket, type LinkSpec } from '../lib/shaping.js'
import { UnknownSiteError } from './errors.js'
import { pathOf, separated, siteOfAddress, type AccessLink, type Partition } from './topology.js'

interface SiteState {
  site: number
  link: AccessLink
  up: TokenBucket
  down: TokenBucket
  proxy: ShapingProxy
}

export interface LinkCounters {
  /** Bytes sent by the site through its access link. */
  up: number
  /** Bytes received. */
  down: number
}

/** What scenarios do with the network, wherever it runs (this process or its own). */
export interface Network {
  /** Starts the proxy of `site` in front of `target`; returns the port to announce. */
  addSite: (site: number, link: AccessLink, target: { host: string, port: number }) => Promise<number>
  setLink: (site: number, change: Partial<AccessLink>) => Promise<void>
  link: (site: number) => Promise<AccessLink>
  partition: (groups: Partition) => Promise<void>
  heal: () => Promise<void>
  counters: (site: number) => Promise<LinkCounters>
  cutSite: (site: number) => Promise<void>
  stop: () => Promise<void>
}

export class SimNetwork implements Network {
  private readonly sites = new Map<number, SiteState>()
  private readonly random: () => number
  private partitionGroups?: Partition

  constructor (seed: number) {
    this.random = seededRandom(seed)
  }

  /** Starts the proxy of `site` in front of `target`; returns the port to announce. */
  async addSite (site: number, link: AccessLink, target: { host: string, port: number }, port = 0): Promise<number> {
    if (this.sites.has(site)) throw new UnknownSiteError(`site ${site} is already on the network`)
    const up = new TokenBucket(link.upBitsPerSecond ?? link.bitsPerSecond)
    const down = new TokenBucket(link.bitsPerSecond)
    const proxy = new ShapingProxy({
      target,
      upstream: (client) => this.spec(siteOfAddress(client.remoteAddress), site),
      downstream: (client) => this.spec(site, siteOfAddress(client.remoteAddress))
    })
    const state: SiteState = { site, link: { ...link }, up, down, proxy }
    this.sites.set(site, state)
    return await proxy.start(port)
  }

  /** The shaped path from site `a` to site `b`; its fields are read live. */
  private spec (a: number | undefined, b: number | undefined): LinkSpec {
    const from = a === undefined ? undefined : this.sites.get(a)
    const to = b === undefined ? undefined : this.sites.get(b)
    const buckets = [from?.up, to?.down].filter((x): x is TokenBucket => x !== undefined)
    return {
      buckets,
      get latencyMs () { return pathOf(from?.link, to?.link).latencyMs },
      get jitterMs () { return pathOf(from?.link, to?.link).jitterMs },
      get loss () { return pathOf(from?.link, to?.link).loss },
      random: this.random,
      held: () => separated(this.partitionGroups, a, b)
    }
  }

  async link (site: number): Promise<AccessLink> {
    return { ...this.state(site).link }
  }

  /** Changes a site's access link from now on (open connections included). */
  async setLink (site: number, change: Partial<AccessLink>): Promise<void> {
    const s = this.state(site)
    s.link = { ...s.link, ...change }
    s.down.setBitsPerSecond(s.link.bitsPerSecond)
    s.up.setBitsPerSecond(s.link.upBitsPerSecond ?? s.link.bitsPerSecond)
  }

  /** Sites in different groups stop reaching each other; open connections stall (bytes wait, as with TCP). */
  async partition (groups: Partition): Promise<void> {
    this.partitionGroups = groups.map(g => [...g])
  }

  async heal (): Promise<void> {
    this.partitionGroups = undefined
  }

  /** Cuts every connection from or to `site` (a crash takes its sockets with it). */
  async cutSite (site: number): Promise<void> {
    for (const s of this.sites.values()) {
      if (s.site === site) s.proxy.cut()
      else s.proxy.cutWhere((client: Socket) => siteOfAddress(client.remoteAddress) === site)
    }
  }

  async counters (site: number): Promise<LinkCounters> {
    const s = this.state(site)
    return { up: s.up.passed, down: s.down.passed }
  }

  private state (site: number): SiteState {
    const s = this.sites.get(site)
    if (s === undefined) throw new UnknownSiteError(`site ${site} is not on the network`)
    return s
  }

  async stop (): Promise<void> {
    await Promise.all([...this.sites.values()].map(async s => { await s.proxy.stop() }))
    this.sites.clear()
  }
}
