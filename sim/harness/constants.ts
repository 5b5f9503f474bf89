/** Defaults of the simulator harness, resolved once with `??`. */

/** 100 Mbit/s: the paper's network between the engine and the hospitals (§5). */
export const PAPER_LINK_BPS = 100_000_000
/** One-way latency of a LAN hop, ms. */
export const DEFAULT_LATENCY_MS = 0
/**
 * Every site's outbound connections leave from its own loopback address
 * (127.0.0.<base + site>), so that a shaping proxy knows which site's access
 * link a connection uses. Linux routes all of 127/8 to loopback.
 */
export const SITE_ADDRESS_BASE = 10
/** The requesting site is site 0; hospital i is site i + 1. */
export const REQUESTER_SITE = 0
/** Associations per PACS (the node's SCU pool): the paper's 3 channels per DICOM server. */
export const DEFAULT_SCU_POOL_SIZE = 3
/** How long a hospital process may take to start or to answer a command. */
export const SITE_START_TIMEOUT_MS = 60_000
export const SITE_COMMAND_TIMEOUT_MS = 120_000
/**
 * `register` does a C-FIND and two DHT writes per series, at every hospital
 * at once: its time grows with the series (216 per hospital for six on a
 * 1 Gbit/s requester took 75 to over 120 s on 2 cores). Allowed per series,
 * never less than SITE_COMMAND_TIMEOUT_MS.
 */
export const REGISTER_MS_PER_SERIES = 2_000

/** How long a hospital process may take to register `series` series. */
export function registerTimeoutMs (series: number): number {
  return Math.max(SITE_COMMAND_TIMEOUT_MS, series * REGISTER_MS_PER_SERIES)
}
/** A stopping hospital process is killed after this long. */
export const SITE_STOP_TIMEOUT_MS = 15_000
/** How long the federation may take to fill its routing tables. */
export const ROUTING_TIMEOUT_MS = 30_000
/** Certificates issued to the simulated clinician are valid this long. */
export const CERTIFICATE_LIFETIME_S = 8 * 3600
/** AE titles. */
export const PACS_AE_PREFIX = 'PACS'
export const NODE_AE_PREFIX = 'DM2'
