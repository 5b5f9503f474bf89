/**
 * The simulated network as a site of its own: the shaping proxies of every
 * site in one process, so that shaping does not depend on how busy the
 * requesting site's event loop is (a link keeps sending whatever its hosts
 * do). Its commands are the `Network` operations, over IPC.
 */
import { SimNetwork, type LinkCounters, type Network } from './network.js'
import type { SiteHandle } from './processes.js'
import type { AccessLink, Partition } from './topology.js'

export interface NetworkInit {
  name: string
  seed: number
}

export interface NetworkCommands {
  status: () => Promise<{ name: string, rss: number, cpuUserMs: number, cpuSystemMs: number }>
  addSite: (args: { site: number, link: AccessLink, target: { host: string, port: number } }) => Promise<number>
  setLink: (args: { site: number, change: Partial<AccessLink> }) => Promise<void>
  link: (args: { site: number }) => Promise<AccessLink>
  partition: (args: { groups: Partition }) => Promise<void>
  heal: () => Promise<void>
  counters: (args: { site: number }) => Promise<LinkCounters>
  cutSite: (args: { site: number }) => Promise<void>
}

export class NetworkSite implements NetworkCommands {
  readonly init: NetworkInit
  private readonly network: SimNetwork

  private constructor (init: NetworkInit) {
    this.init = init
    this.network = new SimNetwork(init.seed)
  }

  static async open (init: NetworkInit): Promise<NetworkSite> {
    return new NetworkSite(init)
  }

  async close (): Promise<void> { await this.network.stop() }

  status = async (): Promise<{ name: string, rss: number, cpuUserMs: number, cpuSystemMs: number }> => {
    const cpu = process.cpuUsage()
    return { name: this.init.name, rss: process.memoryUsage().rss, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 }
  }

  addSite = async (a: { site: number, link: AccessLink, target: { host: string, port: number } }): Promise<number> => await this.network.addSite(a.site, a.link, a.target)
  setLink = async (a: { site: number, change: Partial<AccessLink> }): Promise<void> => { await this.network.setLink(a.site, a.change) }
  link = async (a: { site: number }): Promise<AccessLink> => await this.network.link(a.site)
  partition = async (a: { groups: Partition }): Promise<void> => { await this.network.partition(a.groups) }
  heal = async (): Promise<void> => { await this.network.heal() }
  counters = async (a: { site: number }): Promise<LinkCounters> => await this.network.counters(a.site)
  cutSite = async (a: { site: number }): Promise<void> => { await this.network.cutSite(a.site) }
}

/** The `Network` of a network process, driven through its handle. */
export function remoteNetwork (handle: SiteHandle<NetworkCommands>): Network {
  return {
    addSite: async (site, link, target) => await handle.call('addSite', { site, link, target }),
    setLink: async (site, change) => { await handle.call('setLink', { site, change }) },
    link: async (site) => await handle.call('link', { site }),
    partition: async (groups) => { await handle.call('partition', { groups }) },
    heal: async () => { await handle.call('heal') },
    counters: async (site) => await handle.call('counters', { site }),
    cutSite: async (site) => { await handle.call('cutSite', { site }) },
    stop: async () => { await handle.stop() }
  }
}
