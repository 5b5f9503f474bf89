/**
 * Series-level work against the hospital PACS (the paper's "DICOM
 * requests"): retrieve a series into the slice store — by C-GET, one
 * instance per request spread over the pool's associations, or by one
 * C-MOVE to our own SCP — then register it; register a series virtually from
 * C-FIND answers alone; fetch the missing slices of a registered series.
 */
import { InvalidRegistryInputError, type InstanceRecord, type Registry, type SeriesRecord } from '../registry/index.js'
import type { RetrieveCounts } from './association.js'
import { HELD_INSTANCE_BYTES } from './constants.js'
import { DicomStatusError, throwIfAborted } from './errors.js'
import { identifierFor, toAttributes, VIRTUAL_KEYS } from './identifiers.js'
import type { HeldInstance } from './ingest.js'
import type { ScuPool } from './scu-pool.js'

export interface RetrieveDeps {
  pool: ScuPool
  registry: Registry
}

/** Progress of one series retrieval. */
export interface RetrieveProgress {
  lfn: string
  /** Instances to retrieve (C-MOVE: as announced by the PACS so far). */
  total: number
  completed: number
  failed: number
  bytes: number
}

/** An instance just stored by a retrieval: its registry key, its file, and its bytes when they were held in memory (see IngestResult). */
export interface StoredInstance {
  key: string
  path: string
  held?: HeldInstance
}

export interface RetrieveSeriesOptions {
  /** C-GET on our pooled associations (default) or C-MOVE to our SCP. */
  method?: 'get' | 'move'
  /** SOPInstanceUIDs to retrieve (C-GET); default: every instance the PACS lists. */
  instances?: readonly string[]
  /** `instances` are known not to be in the slice store (the registry said so): not looked up again. */
  knownMissing?: boolean
  signal?: AbortSignal
  /** Deadline of the whole retrieval. */
  timeoutMs?: number
  onProgress?: (progress: RetrieveProgress) => void
  /** Each instance as soon as it is in the slice store (C-GET), so that work on it can start. */
  onInstance?: (stored: StoredInstance) => void
}

export interface RetrieveSeriesResult {
  lfn: string
  completed: number
  failed: number
  /** Instances already in the slice store, not requested again. */
  skipped: number
  bytes: number
  series: SeriesRecord
}

/** SOPInstanceUIDs asked in one C-GET (64 UIDs of 64 characters: about 4 KiB of identifier). */
const BATCH_UIDS = 64
/** Registry lookups in flight while sorting out which instances are already here. */
const LOOKUP_BATCH = 64

function deadline (signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? t : AbortSignal.any([signal, t])
}

function seriesKeys (study: string, series: string): Record<string, string> {
  return { StudyInstanceUID: study, SeriesInstanceUID: series }
}

/** SOPInstanceUIDs of a series at the PACS (IMAGE-level C-FIND). */
export async function listInstances (pool: ScuPool, study: string, series: string, signal?: AbortSignal): Promise<string[]> {
  const rows = await pool.find(identifierFor('IMAGE', ['SOPInstanceUID'], seriesKeys(study, series)), signal === undefined ? {} : { signal })
  return rows.map(r => String(toAttributes(r).SOPInstanceUID ?? '')).filter(u => u !== '')
}

/** Retrieves a series from the PACS into the slice store and registers it. */
export async function retrieveSeries (deps: RetrieveDeps, study: string, series: string, options: RetrieveSeriesOptions = {}): Promise<RetrieveSeriesResult> {
  const { pool, registry } = deps
  const lfn = registry.lfnOf(series)
  const signal = deadline(options.signal, options.timeoutMs ?? pool.options.requestTimeoutMs)
  const progress: RetrieveProgress = { lfn, total: 0, completed: 0, failed: 0, bytes: 0 }
  const report = (): void => { options.onProgress?.({ ...progress }) }
  let skipped = 0
  if (options.method === 'move') {
    const counts: RetrieveCounts = await pool.move({ QueryRetrieveLevel: 'SERIES', ...seriesKeys(study, series) }, {
      signal,
      onPending: c => { Object.assign(progress, { total: c.completed + c.failed + c.warning + c.remaining, completed: c.completed + c.warning, failed: c.failed }); report() }
    })
    Object.assign(progress, { total: counts.completed + counts.failed + counts.warning, completed: counts.completed + counts.warning, failed: counts.failed })
    progress.bytes = (await registry.get(lfn))?.bytes ?? 0
    report()
  } else {
    const wanted = options.instances ?? await listInstances(pool, study, series, signal)
    // Which instances are already here, unless the caller knows: looked up a batch at a time (one LevelDB read each, in parallel).
    const lookup = options.knownMissing === true && options.instances !== undefined ? [] : wanted
    const queue: string[] = lookup.length === 0 ? [...wanted] : []
    for (let i = 0; i < lookup.length; i += LOOKUP_BATCH) {
      const batch = lookup.slice(i, i + LOOKUP_BATCH)
      const held = await Promise.all(batch.map(async uid => (await registry.instanceBySopUid(uid))?.instance.file !== undefined))
      batch.forEach((uid, k) => { if (held[k] === true) skipped++; else queue.push(uid) })
    }
    progress.total = queue.length
    report()
    const stored = new Set<string>()
    const getBatch = async (uids: string[]): Promise<void> => {
      throwIfAborted(signal, 'series retrieval')
      try {
        await pool.get({ QueryRetrieveLevel: 'IMAGE', ...seriesKeys(study, series), SOPInstanceUID: uids.length === 1 ? uids[0] : uids }, {
          signal,
          // Held in memory only for a caller that reads each instance as it lands (a build).
          ...(options.onInstance === undefined ? {} : { holdBytes: HELD_INSTANCE_BYTES }),
          onStored: r => {
            if (r instanceof Error) return
            stored.add(r.sopInstanceUid)
            progress.completed++
            progress.bytes += r.size
            report()
            options.onInstance?.(r.held === undefined ? { key: r.instanceKey, path: r.path } : { key: r.instanceKey, path: r.path, held: r.held })
          }
        })
      } catch {
        throwIfAborted(signal, 'series retrieval')
      }
    }
    // A list of UIDs per C-GET (PS3.4 C.4.3.2.1, "list of UID matching") saves
    // a round trip per instance; whatever a PACS did not send for a list is
    // asked again one by one.
    const batch = Math.max(1, Math.min(BATCH_UIDS, Math.ceil(queue.length / pool.size)))
    const batches: string[][] = []
    for (let i = 0; i < queue.length; i += batch) batches.push(queue.slice(i, i + batch))
    const worker = async (jobs: string[][]): Promise<void> => {
      for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) await getBatch(job)
    }
    await Promise.all(Array.from({ length: Math.min(pool.size, batches.length) }, async () => { await worker(batches) }))
    const missing = queue.filter(u => !stored.has(u))
    if (batch > 1 && missing.length > 0) {
      const singles = missing.map(u => [u])
      await Promise.all(Array.from({ length: Math.min(pool.size, singles.length) }, async () => { await worker(singles) }))
    }
    progress.failed = queue.filter(u => !stored.has(u)).length
    report()
  }
  if (progress.failed > 0 || (progress.completed === 0 && skipped === 0)) {
    throw new DicomStatusError(options.method === 'move' ? 'C-MOVE' : 'C-GET', 0xb000, `${progress.failed} of ${progress.total} instances failed`)
  }
  const record = await registry.register(lfn)
  return { lfn, completed: progress.completed, failed: progress.failed, skipped, bytes: progress.bytes, series: record }
}

/**
 * Registers a series known to the PACS without copying any slice: patient and
 * study attributes from a STUDY-level C-FIND, series attributes from a
 * SERIES-level one, instances from an IMAGE-level one.
 */
export async function registerVirtualSeries (deps: RetrieveDeps, study: string, series: string, options: { signal?: AbortSignal } = {}): Promise<SeriesRecord> {
  const { pool, registry } = deps
  const opts = options.signal === undefined ? {} : { signal: options.signal }
  const [studyRow] = await pool.find(identifierFor('STUDY', VIRTUAL_KEYS.STUDY, { StudyInstanceUID: study }), opts)
  const [seriesRow] = await pool.find(identifierFor('SERIES', VIRTUAL_KEYS.SERIES, seriesKeys(study, series)), opts)
  if (studyRow === undefined || seriesRow === undefined) throw new InvalidRegistryInputError('the PACS does not know this series')
  const instances = await pool.find(identifierFor('IMAGE', VIRTUAL_KEYS.IMAGE, seriesKeys(study, series)), opts)
  const attrs = { ...toAttributes(studyRow), ...toAttributes(seriesRow), ...seriesKeys(study, series) }
  return await registry.registerVirtual(attrs, instances.map(toAttributes))
}

/** Fetches the slices of a registered series that are not in the slice store yet (on demand). */
export async function fetchSeries (deps: RetrieveDeps, lfn: string, options: Omit<RetrieveSeriesOptions, 'instances'> = {}, known?: readonly InstanceRecord[]): Promise<RetrieveSeriesResult> {
  // `known`: the series' instance records as the caller has just read them (not read again).
  const [ident, instances] = await Promise.all([deps.registry.identifying(lfn), known ?? deps.registry.instances(lfn)])
  const missing = instances.filter(i => i.file === undefined).map(i => i.sopInstanceUid)
  const study = String(ident.StudyInstanceUID ?? '')
  const series = String(ident.SeriesInstanceUID ?? '')
  if (missing.length === 0) {
    const record = await deps.registry.register(lfn)
    return { lfn, completed: 0, failed: 0, skipped: record.present, bytes: 0, series: record }
  }
  return await retrieveSeries(deps, study, series, { ...options, ...(options.method === 'move' ? {} : { instances: missing, knownMissing: true }) })
}
