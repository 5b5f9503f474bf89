/**
 * Hop counting from kad-dht query events (pure; fed the events of one lookup).
 *
 * What is counted, precisely. A Kademlia lookup starts from the K closest
 * peers of the requester's own routing table; each peer asked answers with
 * closer peers, which are asked in turn. We give every peer asked a *depth*:
 * 1 for a peer taken from the requester's routing table, and d + 1 for a peer
 * first learned from the answer (`PEER_RESPONSE.closer`) of a peer at depth d.
 * The *hops* of a lookup is the depth of the remote peer whose answer settled
 * it (the target's address for findPeer, the provider record for
 * findProviders, the signed record for get): the number of request/response
 * round trips, one after the other, that led to the answer. A peer learned
 * from several answers keeps the depth of the first one seen, which is the
 * order kad-dht itself queues peers in. *Contacted* counts the distinct remote
 * peers that answered anything before the answer (work done, across the
 * parallel disjoint paths); *asked* counts the distinct peers a request was
 * sent to by then (kad-dht v16 starts a lookup with up to K = 20 disjoint
 * paths at once, so this is the first round's fan-out at least).
 */
import type { PeerId } from '@libp2p/interface'
import type { QueryEvent } from '@libp2p/kad-dht'

export class HopTracker {
  private readonly self: string
  private readonly depth = new Map<string, number>()
  private readonly answered = new Set<string>()
  private readonly askedPeers = new Set<string>()

  constructor (self: PeerId | string) {
    this.self = self.toString()
  }

  /** Records one query event. */
  observe (event: QueryEvent): void {
    if (event.name === 'DIAL_PEER' || event.name === 'SEND_QUERY') {
      // Asked before anyone named it: one of the requester's own routing-table peers.
      const to = (event.name === 'DIAL_PEER' ? event.peer : event.to).toString()
      this.askedPeers.add(to)
      if (!this.depth.has(to)) this.depth.set(to, 1)
      return
    }
    if (event.name !== 'PEER_RESPONSE') return
    const from = event.from.toString()
    if (from === this.self) return
    this.answered.add(from)
    const d = this.depthOf(from)
    for (const p of event.closer) {
      const id = p.id.toString()
      if (id !== this.self && !this.depth.has(id)) this.depth.set(id, d + 1)
    }
  }

  /** Depth of a peer asked during the lookup (1 when it came from the routing table). */
  depthOf (peer: PeerId | string): number {
    return this.depth.get(peer.toString()) ?? 1
  }

  /** Distinct remote peers a request was sent (or being sent) to so far. */
  get asked (): number {
    return this.askedPeers.size
  }

  /** Distinct remote peers that answered so far. */
  get contacted (): number {
    return this.answered.size
  }
}
