/**
 * The `scale` scenario's machinery: N hospital nodes (full `HospitalNode`s
 * without a PACS, so LevelDB, DICOM SCP and control socket included; the
 * project's libp2p stack with the private DHT `/dm2/kad/1.0.0`, passthrough
 * peer-info mapper, server mode, the `/dm2` record validator and selector,
 * and the admission gater) spread over worker processes so that both cores
 * work and memory is measured per process (RSS ÷ nodes hosted).
 *
 * A run, per network size: a deterministic plan from the seed (identities,
 * whom each node dials, who publishes which LFN, who looks up what; plan.ts);
 * start; dial in waves of 10 nodes, paced by the workers' event-loop delay;
 * wait until the routing tables are quiet (kad-dht's first self query and
 * refresh done); publish signed LFN records (with provider records of their
 * content ids) through `Localization.publishLfn`; then one lookup at a time of each
 * kind — findPeer (network only), findProviders, get of the LFN record —
 * timing the first verified answer from another node and counting hops
 * (hops.ts); then memory. Two one-machine artefacts are removed from each
 * simulated node, and only there (artefacts.ts): libp2p's per-host inbound
 * connection rate limit (all nodes share 127.0.0.1) and its connection
 * monitor's keep-alive pings (N × N pings on two cores).
 *
 * @example
 * ```ts
 * import { measureNetwork } from './network.js'
 * import { networkRow } from './summary.js'
 * const net = await measureNetwork({ nodes: 12, seed: 1, workers: 2, lookupsPerKind: 4, root: '/tmp/scale' })
 * networkRow(net) // { nodes: 12, lookupMedianMs: …, hops: …, rssPerNodeMiB: …, … }
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { HopTracker } from './hops.js'
export { makePlan, keySeed, LOOKUP_KINDS, type LookupKind, type LookupSpec, type ScalePlan, type PlanInit } from './plan.js'
export { objectCid, objectRecord } from './objects.js'
export { measureNetwork, type NetworkInit, type NetworkResult, type MeasuredLookup } from './network.js'
export { networkRow, networkDetail, latencyChart, summarizeKind, TABLE_COLUMNS, type KindSummary } from './summary.js'
