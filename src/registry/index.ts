/**
 * The series registry: one DICOM series = one LFN (an HMAC of its
 * SeriesInstanceUID under a site secret), its instances, and its metadata
 * split at ingest into identifying (PS3.15 Annex E Table E.1-1) and
 * descriptive parts, stored in a level sublevel with indexes for the query
 * fields.
 *
 * @example
 * ```ts
 * import { Level } from 'level'
 * import { prefixLogger } from '@libp2p/logger'
 * import { Registry, loadOrCreateSiteSecret } from './registry/index.js'
 *
 * const db = new Level<string, Uint8Array>('db', { valueEncoding: 'view' })
 * const registry = new Registry({
 *   db: db.sublevel<string, Uint8Array>('registry', { valueEncoding: 'view' }),
 *   secret: await loadOrCreateSiteSecret('registry.key'),
 *   logger: prefixLogger('hospital-a')
 * }, { quietPeriodMs: 10_000 })
 * await registry.start()
 * console.log(await registry.list({ modality: 'CT' })) // descriptive fields only
 * await registry.stop()
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { Registry, type RegistryComponents, type RegistryInit, type RegistryDb, type InstanceInput, type AddResult, type ListOptions } from './registry.js'
export { lfnOf, instanceKeyOf, isLfn, loadOrCreateSiteSecret } from './lfn.js'
export { IDENTIFYING, DESCRIPTIVE, INSTANCE_FIELDS, cleanSeriesDescription, splitAttributes, type AttrMap, type AttrValue, type SplitAttributes } from './fields.js'
export { matches, queryText, exactValues } from './query.js'
export type { SeriesRecord, SeriesSummary, InstanceRecord, SeriesState, SeriesOrigin, IndexedField } from './records.js'
