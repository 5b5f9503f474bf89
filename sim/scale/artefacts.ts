/**
 * Two artefacts of running N hospitals on one 2-core machine, removed from
 * each simulated node (and only there):
 *
 * - libp2p's connection manager refuses more than 5 inbound connections per
 *   second *per remote host* (`inboundConnectionThreshold`), a guard against
 *   one host flooding a node. Here every connection comes from 127.0.0.1, so
 *   100 hospitals look like one host and kad-dht's start-up queries get
 *   refused (`EncryptionFailedError: read ECONNRESET` at the dialler). In a
 *   real federation each hospital is its own host, and the admission gater
 *   already refuses non-members: the per-host limit is lifted.
 * - libp2p's connection monitor pings every open connection every 10 s. A
 *   real hospital pays that for its own ~N connections on its own CPU; the
 *   simulator would pay it for all N × N on two cores (about 0.3 core at 100
 *   nodes, measured), which starves the event loops and shows up as lookup
 *   latency that no real site would see. Lookups never depend on it (dead
 *   connections are found by the DHT's own requests): it is stopped.
 *
 * `buildLibp2p` takes no connection-manager options (yet), so this reaches
 * libp2p's components through `libp2p.components` (public on the libp2p
 * class, not on its interface) and reports what it could do.
 */
import type { HospitalNode } from '../../src/node/index.js'

interface RateLimiterLike { consume: (key: string, points?: number) => unknown }
interface StartableLike { stop: () => unknown }

function components (node: HospitalNode): Record<string, unknown> | undefined {
  return (node.libp2p as unknown as { components?: Record<string, unknown> }).components
}

/** Lifts the per-host inbound connection rate limit; false if libp2p's internals moved. */
export function liftPerHostInboundLimit (node: HospitalNode): boolean {
  const manager = components(node)?.connectionManager as Record<string, unknown> | undefined
  const limiter = manager?.inboundConnectionRateLimiter as RateLimiterLike | undefined
  if (limiter === undefined || typeof limiter.consume !== 'function') return false
  limiter.consume = () => undefined
  return true
}

/** Stops the connection monitor's keep-alive pings; false if there is none to stop. */
export async function stopConnectionMonitor (node: HospitalNode): Promise<boolean> {
  const monitor = components(node)?.connectionMonitor as StartableLike | undefined
  if (monitor === undefined || typeof monitor.stop !== 'function') return false
  await monitor.stop()
  return true
}
