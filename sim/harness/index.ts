/**
 * The simulator harness: a federation of N hospitals on 127.0.0.1 with what a
 * real one has — a roster signed by a federation authority, each site's own
 * key, certificates issued by each master site to the clinician — and per
 * site: a hospital node and a PACS holding synthetic series (our DICOM edge
 * run standalone, or a real Orthanc), each in a process of its own; the
 * requesting site (where the clinician works) in the orchestrator's process.
 * Every site's access link is shaped in user space (bandwidth, latency,
 * jitter, loss, partitions) by a proxy in front of its libp2p port, which
 * tells calling sites apart by the loopback address their connections leave
 * from (127.0.0.10 + site).
 *
 * @example
 * ```ts
 * import { SimFederation, buildLibrary } from './sim/harness/index.js'
 * import { getImage } from './src/api/get-image.js'
 *
 * const library = await buildLibrary({ dir: '/tmp/lib', seed: 1, count: 4 })
 * const fed = await SimFederation.start({
 *   root: '/tmp/sim', hospitals: 2, seed: 1,
 *   requesterLink: { bitsPerSecond: 100e6 }, hospitalLink: () => ({ bitsPerSecond: 100e6, latencyMs: 2 })
 * })
 * try {
 *   const [a] = fed.hospitals
 *   await a.pacs?.call('pacsLoad', { series: library.map(s => ({ series: s.series, files: s.files })) })
 *   const { lfns } = await a.handle.call('register', { series: library })
 *   await getImage(fed.requester, fed.wallet(), lfns[0], { out: '/tmp/first.nii' })
 *   console.log(await fed.network.counters(0)) // bytes through the requesting site's link
 * } finally {
 *   await fed.stop()
 * }
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { SimFederation, type SimFederationInit, type Hospital } from './federation.js'
export { SimNetwork, type LinkCounters, type Network } from './network.js'
export type { NetworkCommands } from './network-site.js'
export { siteAddress, siteOfAddress, pathOf, separated, imageCeiling, type AccessLink, type Partition } from './topology.js'
export { buildLibrary, derivedUid, referenceOf, voxelDigest, PAPER_SHAPE, type LibrarySeries, type SeriesShape } from './dataset.js'
export { killAllSites, type SiteHandle } from './processes.js'
export type { HospitalCommands, SiteInit, SiteStatus } from './hospital-site.js'
export type { PacsCommands, PacsInit } from './pacs-site.js'
export { RequesterObserver } from './observer.js'
export { accessProbes, federationHealth, type AccessProbe, type HealthReport, type ProbeImage } from './probes.js'
