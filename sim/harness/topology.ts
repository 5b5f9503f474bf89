/**
 * The simulated network's pure logic: which loopback address is which site,
 * and what a path between two sites is made of. Each site has one access
 * link (the paper's sites each sat on a 100 Mbit/s network): a byte from
 * site a to site b passes a's uplink and b's downlink, and waits both
 * links' one-way latencies.
 */
import { SITE_ADDRESS_BASE } from './constants.js'

/** A site's access link. */
export interface AccessLink {
  /** Downlink rate, bits per second. */
  bitsPerSecond: number
  /** Uplink rate; default the downlink rate. */
  upBitsPerSecond?: number
  /** One-way latency to the network core, ms. */
  latencyMs?: number
  jitterMs?: number
  /** Probability that a segment is lost (and retransmitted) on this link. */
  loss?: number
}

/** The loopback address a site's connections leave from. */
export function siteAddress (site: number): string {
  const host = SITE_ADDRESS_BASE + site
  if (!Number.isInteger(site) || site < 0 || host > 254) throw new RangeError(`no loopback address for site ${site}`)
  return `127.0.0.${host}`
}

/** The site a connection came from, by its remote address (IPv4 or IPv4-mapped IPv6). */
export function siteOfAddress (address: string | undefined): number | undefined {
  const m = /^(?:::ffff:)?127\.0\.0\.(\d{1,3})$/.exec(address ?? '')
  if (m === null) return undefined
  const site = Number(m[1]) - SITE_ADDRESS_BASE
  return site >= 0 ? site : undefined
}

/** One-way latency, jitter and loss of the path a → b (either end may be unknown: no link). */
export function pathOf (a: AccessLink | undefined, b: AccessLink | undefined): { latencyMs: number, jitterMs: number, loss: number } {
  const loss = 1 - (1 - (a?.loss ?? 0)) * (1 - (b?.loss ?? 0))
  return {
    latencyMs: (a?.latencyMs ?? 0) + (b?.latencyMs ?? 0),
    jitterMs: (a?.jitterMs ?? 0) + (b?.jitterMs ?? 0),
    loss
  }
}

/** A partition: groups of sites; sites in different groups cannot reach each other. Unlisted sites reach everyone. */
export type Partition = ReadonlyArray<readonly number[]>

export function separated (partition: Partition | undefined, a: number | undefined, b: number | undefined): boolean {
  if (partition === undefined || a === undefined || b === undefined) return false
  const ga = partition.findIndex(g => g.includes(a))
  const gb = partition.findIndex(g => g.includes(b))
  return ga >= 0 && gb >= 0 && ga !== gb
}

/**
 * What the links allow, in whole images over `seconds`: the requester's
 * downlink, or the hospitals' uplinks together if they are narrower.
 */
export function imageCeiling (o: { requesterBps: number, hospitalUpBps: readonly number[], bytesPerImage: number, seconds: number }): number {
  const hospitals = o.hospitalUpBps.reduce((s, b) => s + b, 0)
  const bytesPerSecond = Math.min(o.requesterBps, hospitals) / 8
  return Math.floor(bytesPerSecond * o.seconds / o.bytesPerImage)
}
