/**
 * The feature index of one site: for each series it masters, the features
 * computed at ingest (src/similarity) with the descriptive fields access
 * control judges, in the node's LevelDB, and decoded in memory for ranking.
 *
 * Layout of the `features` sublevel, keyed by LFN; both keys of a series are
 * written in one batch (atomic):
 *
 *   m!<lfn>   canonical CBOR { v: 1, version, modality, bodyPart, date?, studyType? }
 *   d!<lfn>   encodeFeatures() bytes (versioned, checksummed; src/similarity/codec.ts)
 *
 * Memory: one small entry per series (LFN, version, keys, resource
 * descriptor, latest diagnosis text), plus an LRU of decoded features bounded
 * in bytes (DEFAULT_FEATURE_CACHE_BYTES). A query reads features only for the
 * series its chain covers and that are comparable, from the LRU, else from
 * LevelDB (decoded, then kept).
 */
import type { Logger } from '@libp2p/interface'
import { LRUCache } from 'lru-cache'
import { decodeCanonical, encodeCanonical, isMap } from '../../sac/cbor.js'
import type { ResourceDescriptor } from '../../sac/index.js'
import { decodeFeatures, encodeFeatures, type Features } from '../../similarity/index.js'
import type { Candidate } from '../../protocols/similarity/index.js'
import {
  DEFAULT_FEATURE_CACHE_BYTES, FEATURE_ENTRY_OVERHEAD_BYTES, FEATURE_RECORD_VERSION, MAX_FEATURE_DATA_BYTES, MAX_FEATURE_META_BYTES
} from './constants.js'

/** The descriptive fields stored with a series' features. */
export interface IndexedSeries {
  lfn: string
  /** The registry version the features were computed from. */
  version: number
  /** DICOM Modality and BodyPartExamined as the registry has them ('' when absent). */
  modality: string
  bodyPart: string
  /** Study date (DICOM DA) and study type, for date- and type-bounded certificates. */
  date?: string
  studyType?: string
}

/** The `features` sublevel (string keys, byte values). */
export interface FeatureDb {
  get: (key: string) => Promise<Uint8Array | undefined>
  batch: (ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }>, options?: { sync?: boolean }) => Promise<void>
  iterator: (options: { gt: string, lt: string }) => AsyncIterable<[string, Uint8Array]>
}

export interface FeatureIndexInit {
  db: FeatureDb
  /** This site's custodian key: owner and custodian of every series it masters. */
  custodian: Uint8Array
  /** The content id of a prepared version, if any (else the descriptor says `pending:`). */
  contentIdOf: (lfn: string, version: number) => Promise<string | undefined>
  /** Bytes of decoded features kept in memory (default 1 GiB). */
  cacheBytes?: number
  /** Called each time a query loads a series' features (tests, metrics). */
  onRead?: (lfn: string) => void
  log: Logger
}

export interface FeatureIndexStats {
  series: number
  /** Series whose decoded features are in memory, and their bytes. */
  cached: number
  cachedBytes: number
  cacheBytes: number
  /** Series with a diagnosis. */
  diagnosed: number
  /** Features decoded from LevelDB since open (cache misses). */
  decoded: number
}

interface Entry extends IndexedSeries {
  resource: ResourceDescriptor
}

const META = 'm!'
const DATA = 'd!'
const SHORT = /^[\x20-\x7e]{0,64}$/
/** LFNs as access control accepts them (printable ASCII, no space). */
const LFN = /^[\x21-\x7e]{1,256}$/

function sizeOf (f: Features): number {
  return f.thumbnail.byteLength + f.histogram.byteLength + FEATURE_ENTRY_OVERHEAD_BYTES
}

function encodeMeta (s: IndexedSeries): Uint8Array {
  const m: Record<string, unknown> = { v: FEATURE_RECORD_VERSION, version: s.version, modality: s.modality, bodyPart: s.bodyPart }
  if (s.date !== undefined) m.date = s.date
  if (s.studyType !== undefined) m.studyType = s.studyType
  return encodeCanonical(m, MAX_FEATURE_META_BYTES)
}

/** A stored metadata record, or undefined when it is not one this code wrote. */
function decodeMeta (lfn: string, bytes: Uint8Array): IndexedSeries | undefined {
  let m: unknown
  try {
    m = decodeCanonical(bytes, MAX_FEATURE_META_BYTES)
  } catch {
    return undefined
  }
  if (!isMap(m) || m.v !== FEATURE_RECORD_VERSION) return undefined
  const { version, modality, bodyPart, date, studyType } = m
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return undefined
  if (typeof modality !== 'string' || !SHORT.test(modality) || typeof bodyPart !== 'string' || !SHORT.test(bodyPart)) return undefined
  const s: IndexedSeries = { lfn, version, modality, bodyPart }
  if (typeof date === 'string' && /^\d{8}$/.test(date)) s.date = date
  if (typeof studyType === 'string' && SHORT.test(studyType)) s.studyType = studyType
  return s
}

export class FeatureIndex {
  private readonly init: FeatureIndexInit
  private readonly entries = new Map<string, Entry>()
  private readonly diagnoses = new Map<string, string>()
  private readonly cache: LRUCache<string, Features>
  private readonly cacheBytes: number
  private decodedCount = 0

  constructor (init: FeatureIndexInit) {
    this.init = init
    this.cacheBytes = init.cacheBytes ?? DEFAULT_FEATURE_CACHE_BYTES
    this.cache = new LRUCache<string, Features>({ maxSize: this.cacheBytes, sizeCalculation: sizeOf })
  }

  /** Loads the entries (metadata only; features are decoded when first needed, or by `warm`). */
  async open (): Promise<void> {
    let skipped = 0
    for await (const [key, value] of this.init.db.iterator({ gt: META, lt: 'm"' })) {
      const lfn = key.slice(META.length)
      const s = decodeMeta(lfn, value)
      if (s === undefined) { skipped++; continue }
      this.entries.set(lfn, await this.entryOf(s))
    }
    if (skipped > 0) this.init.log.error('feature index: %d unreadable records skipped', skipped)
  }

  private async entryOf (s: IndexedSeries): Promise<Entry> {
    const contentId = await this.init.contentIdOf(s.lfn, s.version).catch(() => undefined)
    return { ...s, resource: this.resourceOf(s, contentId) }
  }

  /** What access control knows about the series, as DataPlane.resourceOf builds it. */
  private resourceOf (s: IndexedSeries, contentId: string | undefined): ResourceDescriptor {
    const { custodian } = this.init
    const r: ResourceDescriptor = { owner: custodian, custodian, contentId: contentId ?? `pending:${s.lfn}@${s.version}`, lfn: s.lfn }
    if (s.modality !== '') r.modality = s.modality
    if (s.bodyPart !== '') r.bodyPart = s.bodyPart
    if (s.date !== undefined) r.date = s.date
    if (s.studyType !== undefined) r.studyType = s.studyType
    return r
  }

  get size (): number { return this.entries.size }

  /** The indexed version of an LFN, if any. */
  version (lfn: string): number | undefined {
    return this.entries.get(lfn)?.version
  }

  lfns (): string[] {
    return [...this.entries.keys()]
  }

  /**
   * Stores a series' features (replacing older ones), synced. What is kept
   * in memory is what a later read would decode (thumbnails quantized to
   * uint16), so a ranking does not depend on the cache. `sync: false` only
   * for bulk loads that can be redone (benchmarks).
   */
  async put (series: IndexedSeries, features: Features, options: { sync?: boolean } = {}): Promise<void> {
    if (typeof series.lfn !== 'string' || !LFN.test(series.lfn)) throw new RangeError('not a logical file name')
    const bytes = encodeFeatures(features)
    if (bytes.length > MAX_FEATURE_DATA_BYTES) throw new RangeError('features too large')
    const decoded = decodeFeatures(bytes)
    const meta = encodeMeta(series)
    // What a reopened index will read back, so that memory and disk agree.
    const s = decodeMeta(series.lfn, meta)
    if (s === undefined) throw new RangeError('descriptive fields are not short printable values')
    await this.init.db.batch([
      { type: 'put', key: DATA + s.lfn, value: bytes },
      { type: 'put', key: META + s.lfn, value: meta }
    ], { sync: options.sync ?? true })
    this.cache.delete(s.lfn)
    this.entries.set(s.lfn, await this.entryOf(s))
    this.cache.set(s.lfn, decoded)
  }

  /** Forgets a series (no longer registered here). */
  async delete (lfn: string): Promise<void> {
    await this.init.db.batch([{ type: 'del', key: DATA + lfn }, { type: 'del', key: META + lfn }], { sync: true })
    this.entries.delete(lfn)
    this.cache.delete(lfn)
  }

  /** A version was prepared: its content id is what file-bound certificates name. */
  setContentId (lfn: string, version: number, contentId: string): void {
    const e = this.entries.get(lfn)
    if (e === undefined || e.version !== version) return
    this.entries.set(lfn, { ...e, resource: this.resourceOf(e, contentId) })
  }

  /** The latest diagnosis of an LFN (shown to queries whose chain grants meta/read). */
  setDiagnosis (lfn: string, text: string | undefined): void {
    if (text === undefined || text === '') this.diagnoses.delete(lfn)
    else this.diagnoses.set(lfn, text)
  }

  /** True when a diagnosis is known for the LFN (the query field `diagnosisKnown`). */
  hasDiagnosis (lfn: string): boolean {
    return this.diagnoses.has(lfn)
  }

  /** Decoded features of an indexed series: from memory, else LevelDB (then kept). */
  async features (lfn: string): Promise<Features> {
    this.init.onRead?.(lfn)
    const hit = this.cache.get(lfn)
    if (hit !== undefined) return hit
    const bytes = await this.init.db.get(DATA + lfn)
    if (bytes === undefined) throw new RangeError('no stored features')
    const f = decodeFeatures(bytes)
    this.decodedCount++
    this.cache.set(lfn, f)
    return f
  }

  /** The encoded features of a series (to send as a query), or undefined. */
  async encoded (lfn: string): Promise<Uint8Array | undefined> {
    if (!this.entries.has(lfn)) return undefined
    return await this.init.db.get(DATA + lfn)
  }

  /** This site's series as the similarity service walks them; features load only when asked. */
  async * candidates (): AsyncGenerator<Candidate> {
    for (const e of [...this.entries.values()]) {
      const diagnosis = this.diagnoses.get(e.lfn)
      yield {
        lfn: e.lfn,
        modality: e.modality,
        bodyPart: e.bodyPart,
        resource: e.resource,
        ...(diagnosis === undefined ? {} : { diagnosis }),
        features: async () => await this.features(e.lfn)
      }
    }
  }

  /**
   * Decodes stored features into memory until the cache is full, yielding
   * to the event loop between series (start-up, in the background).
   */
  async warm (signal: AbortSignal): Promise<number> {
    let n = 0
    for (const lfn of this.lfns()) {
      if (signal.aborted) break
      if (this.cache.has(lfn)) continue
      const bytes = await this.init.db.get(DATA + lfn).catch(() => undefined)
      if (bytes === undefined || !this.entries.has(lfn)) continue
      let f: Features
      try {
        f = decodeFeatures(bytes)
      } catch {
        this.init.log.error('feature index: stored features of %s are unreadable', lfn)
        continue
      }
      // Warming never evicts: it stops once the cache is full.
      if (this.cache.calculatedSize + sizeOf(f) > this.cacheBytes) break
      if (!this.cache.has(lfn)) this.cache.set(lfn, f)
      n++
      await new Promise(resolve => setImmediate(resolve))
    }
    return n
  }

  stats (): FeatureIndexStats {
    return {
      series: this.entries.size,
      cached: this.cache.size,
      cachedBytes: this.cache.calculatedSize,
      cacheBytes: this.cacheBytes,
      diagnosed: this.diagnoses.size,
      decoded: this.decodedCount
    }
  }
}
