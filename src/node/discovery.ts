/**
 * Who can find whom: DHT lookups between the nodes of a federation, used by
 * `dm2 federation local` and the tests.
 */
import type { SingleKadDHT } from '@libp2p/kad-dht'
import type { HospitalNode } from './hospital-node.js'

export interface DiscoveryCell {
  from: string
  to: string
  found: boolean
  /** Lookup time in milliseconds. */
  ms: number
}

export interface DiscoveryMatrix {
  names: string[]
  cells: DiscoveryCell[]
}

export interface DiscoveryOptions {
  signal?: AbortSignal
  /** Per lookup. Default 10 s. */
  timeoutMs?: number
}

/** Number of peers in a node's DHT routing table. */
export function routingTableSize (node: HospitalNode): number {
  return (node.libp2p.services.dht as unknown as SingleKadDHT).routingTable.size
}

/**
 * Waits until every node's routing table holds every other node, or
 * `timeoutMs` passes (then returns anyway: the matrix shows what is missing).
 */
export async function waitForRoutingTables (nodes: HospitalNode[], options: DiscoveryOptions = {}): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  const want = Math.min(nodes.length - 1, 20)
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted()
    if (nodes.every(n => routingTableSize(n) >= want)) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return false
}

/** Every node looks up every other with a network DHT query (`FIND_NODE`), not its cache. */
export async function discoveryMatrix (nodes: HospitalNode[], options: DiscoveryOptions = {}): Promise<DiscoveryMatrix> {
  const cells: DiscoveryCell[] = []
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue
      options.signal?.throwIfAborted()
      const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 10_000), ...(options.signal === undefined ? [] : [options.signal])])
      const started = performance.now()
      let found = false
      try {
        // useCache: false asks the network, not the local peer store.
        const info = await a.libp2p.peerRouting.findPeer(b.peerId, { signal, useCache: false })
        found = info.id.equals(b.peerId) && info.multiaddrs.length > 0
      } catch {
        found = false
      }
      cells.push({ from: a.config.name, to: b.config.name, found, ms: performance.now() - started })
    }
  }
  return { names: nodes.map(n => n.config.name), cells }
}
