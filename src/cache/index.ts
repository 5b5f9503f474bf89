/**
 * The node's cache (paper §4.4): three byte-bounded layers on scratch space,
 * each an LRU store whose index lives in LevelDB and whose entries are
 * committed atomically and survive restarts.
 *
 * - `results` (layer 1): JSON results keyed by `requestKey(query, scope)`,
 *   dropped by `invalidate(change)` when a series they could match changes;
 * - `images` (layer 2): encrypted chunks + signed manifest of `lfn@version`,
 *   a new version replacing the old;
 * - `slices` (layer 3): DICOM files by SOP Instance UID.
 *
 * Each layer is a `ByteStore`: entries are files (small ones inline in
 * LevelDB), streamed in and out so large entries never sit in memory; reads
 * return a pinned lease (`path` + `release()`) or a stream; `stats()` gives
 * hits, misses, evictions and bytes. A leaf module: it is handed a directory,
 * a level and a logger, and imports nothing from `node/`.
 *
 * @example
 * ```ts
 * import { Level } from 'level'
 * import { defaultLogger } from '@libp2p/logger'
 * import { NodeCache } from './index.js'
 *
 * const db = new Level<string, Uint8Array>('/tmp/dm2-example/db', { valueEncoding: 'view' })
 * const cache = new NodeCache({
 *   directory: '/tmp/dm2-example/cache',
 *   level: db.sublevel('cache'),
 *   logger: defaultLogger(),
 *   limits: { imageBytes: 1024 ** 3 }
 * })
 * await cache.open()
 *
 * // Layer 1: equivalent queries under the same scope hit the same entry.
 * await cache.results.put({ modality: 'MR', bodyPart: 'HEART' }, 'sac:abc', [{ lfn: 'lfn-1' }])
 * await cache.results.get({ bodyPart: 'HEART ', modality: 'MR' }, 'sac:abc') // → [{ lfn: 'lfn-1' }]
 * await cache.results.invalidate({ fields: { modality: 'MR', bodyPart: 'HEART' } }) // → 1
 *
 * // Layer 2: version 2 of an image replaces version 1.
 * await cache.images.put('lfn-1', 2, { manifest: new Uint8Array([1]), chunks: [{ name: '0', source: new Uint8Array(1024) }] })
 * const image = await cache.images.get('lfn-1')
 * image?.chunkPath('0') // a file to send, valid until release()
 * image?.release()
 *
 * // Layer 3: a slice moved in from where the DICOM client wrote it.
 * await cache.slices.put('1.2.840.1.2.3', { path: '/tmp/dm2-example/incoming.dcm' })
 * cache.slices.missing(['1.2.840.1.2.3', '1.2.840.1.2.4']) // → ['1.2.840.1.2.4']
 *
 * console.log(cache.stats())
 * await cache.close()
 * await db.close()
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { NodeCache, createNodeCache, budgetLimits, resolveCacheLimits, type NodeCacheInit, type NodeCacheLimits, type NodeCacheStats } from './node-cache.js'
export { ResultCache, type ResultCacheInit, type ResultPutOptions } from './results.js'
export { ImageCache, imageKey, checkLfn, checkVersion, type ImageCacheInit, type ImageChunk, type ImageInput, type ImageLease } from './images.js'
export { SliceCache, checkUid, type SliceCacheInit, type SliceLease } from './slices.js'
export { ByteStore } from './store.js'
export { requestKey, normalizeQuery, checkScope } from './request-key.js'
export {
  dependenciesOf, couldMatch, affects, DEPENDS_ON_EVERYTHING,
  type Dependencies, type Conjunction, type Constraint, type SeriesChange, type SeriesFields, type FieldValue, type Scalar
} from './dependencies.js'
export type {
  CacheLevel, JsonValue, ByteSource, FileSource, DirectoryFile, StoreLimits, StoreInit, StorePutOptions,
  EntryInfo, CacheLease, InlineLease, FileLease, DirectoryLease, StoreStats
} from './types.js'
