/** Pure placement logic: who counts as a live holder, where new replicas go, which source to read first. */

/** Peer liveness from connection events and failed pings: a peer is down from the moment it was last lost. */
export class Liveness {
  private readonly downSince = new Map<string, number>()
  private readonly now: () => number

  constructor (now: () => number = Date.now) {
    this.now = now
  }

  up (peer: string): void { this.downSince.delete(peer) }
  down (peer: string): void { if (!this.downSince.has(peer)) this.downSince.set(peer, this.now()) }
  /** Alive, or away for less than the grace period (a restart or a short outage does not trigger a new replica). */
  alive (peer: string, graceMs: number): boolean {
    const since = this.downSince.get(peer)
    return since === undefined || this.now() - since < graceMs
  }

  isDown (peer: string): boolean { return this.downSince.has(peer) }
}

/** Orders peers by measured round-trip time, fastest first; unmeasured peers last, in their given order. */
export function rankByRtt<T extends { toString: () => string }> (peers: readonly T[], rtt: (peer: string) => number | undefined): T[] {
  return peers.map((p, i) => ({ p, i, r: rtt(p.toString()) }))
    .sort((a, b) => (a.r ?? Infinity) - (b.r ?? Infinity) || a.i - b.i)
    .map(x => x.p)
}

export interface PlacementInput {
  factor: number
  self: string
  /** Valid roster sites with the storage role. */
  storageSites: readonly string[]
  /** Every peer known to hold the content (DHT providers and our own placements). */
  holders: readonly string[]
  alive: (peer: string) => boolean
}

export interface Placement {
  /** Holders that count towards the factor (storage sites, not the master, alive within the grace period). */
  live: string[]
  /** How many new replicas are needed. */
  needed: number
  /** Sites that may take one: storage role, not the master, not already holding (one replica per site). */
  candidates: string[]
}

export function plan (input: PlacementInput): Placement {
  const storage = new Set(input.storageSites)
  const holders = new Set(input.holders.filter(h => h !== input.self))
  const live = [...holders].filter(h => storage.has(h) && input.alive(h))
  const candidates = [...storage].filter(s => s !== input.self && !holders.has(s) && input.alive(s))
  return { live, needed: Math.max(0, input.factor - live.length), candidates }
}
