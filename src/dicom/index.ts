/**
 * The DICOM edge of a hospital node: one typed, promise-based adapter over
 * dcmjs-dimse. Nothing of dcmjs-dimse's callbacks or events leaks out; errors
 * are typed (errors.ts) and carry the DICOM status.
 *
 * - `DicomScp`: the node as a DICOM server on the configured address only —
 *   C-ECHO; C-STORE streamed PDV by PDV into a temporary file, checked
 *   (part10/), flushed, renamed into the slice store, recorded in the
 *   registry, then acknowledged; C-FIND from the registry at every level;
 *   C-GET and C-MOVE of the node's own instances (destinations from config).
 * - `ScuPool`: the node as a client of its PACS — N associations (3 by
 *   default), each request with an AbortSignal and a timeout.
 * - `retrieveSeries`, `registerVirtualSeries`, `fetchSeries`: series (LFN)
 *   level work against the PACS, with progress events.
 * - `openStandaloneEdge`: all of it composed from a data directory.
 *
 * Every socket has Nagle off and a PDU length guard; associations have an
 * association timeout and a PDU (silence) timeout; the SCP admits any calling
 * AE unless `allowedCallingAeTitles` is set.
 *
 * @example
 * ```ts
 * const edge = await openStandaloneEdge({
 *   dataDir: 'hospital-a', logger, aeTitle: 'DM2',
 *   scp: { host: '127.0.0.1', port: 11112 },
 *   pacs: { aeTitle: 'PACS', host: '10.0.0.5', port: 104 }
 * })
 * await edge.pool?.echo({ signal: AbortSignal.timeout(5000) })
 * const r = await retrieveSeries({ pool: edge.pool!, registry: edge.registry }, studyUid, seriesUid, {
 *   onProgress: p => console.log(`${p.completed}/${p.total}`)
 * })
 * console.log(r.lfn, r.series.version)
 * await edge.close()
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { DicomScp, type DicomScpComponents, type DicomScpInit } from './scp.js'
export { ScuPool, type ScuPoolComponents, type ScuPoolInit, type PacsEndpoint, type StoredListener } from './scu-pool.js'
export { DicomAssociation, type AssociationOptions, type RequestOptions, type RetrieveOptions, type RetrieveCounts, type Identifier } from './association.js'
export { retrieveSeries, registerVirtualSeries, fetchSeries, listInstances, type RetrieveDeps, type RetrieveProgress, type RetrieveSeriesOptions, type RetrieveSeriesResult, type StoredInstance } from './retrieve.js'
export { Ingestor, type HeldInstance, type IngestComponents, type IngestResult } from './ingest.js'
export { SliceStore, TempFile, type SliceStoreInit } from './slice-store.js'
export { retrieveProposal, storeProposal, acceptContext, admission, type Proposal } from './contexts.js'
export { toAttributes, identifierFor, VIRTUAL_KEYS } from './identifiers.js'
export { findRows, parseLevel, type QueryLevel } from './scp-find.js'
export { instancesToRetrieve } from './scp-retrieve.js'
export { Status, isSuccess } from './dimse.js'
export { TransferSyntax, SopClass, STORAGE_SOP_CLASSES } from './uids.js'
export { inspectFile, type InstanceInfo } from './part10/index.js'
export type { StoredFile } from './outgoing.js'
export { openStandaloneEdge, REGISTRY_SUBLEVEL, type StandaloneEdge, type StandaloneEdgeOptions } from './standalone.js'
