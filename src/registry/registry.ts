/**
 * The series registry of a hospital node: DICOM series as LFNs, their
 * instances, and their metadata split into identifying and descriptive
 * parts (see fields.ts), in a level sublevel (see records.ts for the layout).
 *
 * A series is registered when complete — no new instance for the quiet
 * period, or an explicit `register()` — or virtually from a PACS C-FIND
 * (`registerVirtual`), its slices fetched later. Master series cannot be
 * deleted through any federation path: the only delete is `adminDelete`,
 * for the local administrator.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { DEFAULT_QUIET_PERIOD_MS } from './constants.js'
import { InvalidRegistryInputError, RegistryStoppedError, SeriesNotFoundError } from './errors.js'
import type { AttrMap } from './fields.js'
import { instanceKeyOf, isLfn, lfnOf } from './lfn.js'
import type { IndexedField, InstanceRecord, SeriesRecord, SeriesState, SeriesSummary } from './records.js'
import { mergeInstance, type InstanceInput } from './merge.js'
import { RecordStore, type RegistryDb } from './store.js'

export type { RegistryDb }
export type { InstanceInput }

export interface RegistryComponents {
  db: RegistryDb
  /** Site secret keying LFNs (see `loadOrCreateSiteSecret`). */
  secret: Uint8Array
  logger: ComponentLogger
}

export interface RegistryInit {
  quietPeriodMs?: number
  /** Called after each (re-)registration; LFN and version only, never patient data. */
  onRegistered?: (series: SeriesRecord) => void
}

export interface AddResult {
  lfn: string
  instanceKey: string
  /** The instance was not known before. */
  newInstance: boolean
}

export interface ListOptions {
  identified?: boolean
  state?: SeriesState
  modality?: string
  bodyPart?: string
}

export class Registry {
  readonly quietPeriodMs: number
  private readonly secret: Uint8Array
  private readonly log: Logger
  private readonly store: RecordStore
  private readonly onRegistered?: (series: SeriesRecord) => void
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private running = false
  /** LFNs of recent series (an HMAC per instance would be wasted work). */
  private readonly lfns = new Map<string, string>()

  constructor (components: RegistryComponents, init: RegistryInit = {}) {
    this.store = new RecordStore(components.db)
    this.secret = components.secret
    this.log = components.logger.forComponent('dm2:registry')
    this.quietPeriodMs = init.quietPeriodMs ?? DEFAULT_QUIET_PERIOD_MS
    if (init.onRegistered !== undefined) this.onRegistered = init.onRegistered
  }

  /** Schedules the registration of every series still receiving (after a restart, too). */
  async start (): Promise<void> {
    this.running = true
    for (const s of await this.store.allSeries()) {
      if (s.state === 'receiving' || s.dirty) this.schedule(s.lfn, s.lastInstanceAt + this.quietPeriodMs - Date.now())
    }
  }

  /** Stops the quiet-period timers and waits for writes in progress. */
  async stop (): Promise<void> {
    this.running = false
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    await Promise.allSettled([...this.locks.values()])
  }

  lfnOf (seriesInstanceUid: string): string {
    let lfn = this.lfns.get(seriesInstanceUid)
    if (lfn === undefined) {
      lfn = lfnOf(this.secret, seriesInstanceUid)
      if (this.lfns.size >= 10_000) this.lfns.clear()
      this.lfns.set(seriesInstanceUid, lfn)
    }
    return lfn
  }

  instanceKeyOf (sopInstanceUid: string): string { return instanceKeyOf(this.secret, sopInstanceUid) }

  /** Where the slice store keeps an instance: `<lfn>/<instance key>.dcm`. */
  pathFor (seriesInstanceUid: string, sopInstanceUid: string): string {
    return `${this.lfnOf(seriesInstanceUid)}/${this.instanceKeyOf(sopInstanceUid)}.dcm`
  }

  /** Records an instance (a stored file, or a virtual one); schedules registration. */
  async addInstance (input: InstanceInput): Promise<AddResult> {
    this.assertRunning()
    for (const k of ['sopInstanceUid', 'sopClassUid', 'studyInstanceUid', 'seriesInstanceUid'] as const) {
      if (typeof input[k] !== 'string' || input[k] === '') throw new InvalidRegistryInputError(`instance without ${k}`)
    }
    const lfn = this.lfnOf(input.seriesInstanceUid)
    // Group commit: instances of one series arriving while its previous write
    // runs (the pool's parallel C-GETs) are merged and written in one batch.
    return await new Promise<AddResult>((resolve, reject) => {
      let queue = this.pending.get(lfn)
      if (queue === undefined) {
        queue = []
        this.pending.set(lfn, queue)
        this.locked(lfn, async () => { await this.drain(lfn) }).catch(() => {})
      }
      queue.push({ input, resolve, reject })
    })
  }

  private readonly pending = new Map<string, Array<{ input: InstanceInput, resolve: (r: AddResult) => void, reject: (err: unknown) => void }>>()

  /** Writes every instance queued for `lfn` in one batch (runs under the series lock). */
  private async drain (lfn: string): Promise<void> {
    const queue = this.pending.get(lfn) ?? []
    this.pending.delete(lfn)
    try {
      const old = await this.store.readSeries(lfn)
      const oldIdent = old === undefined ? {} : await this.store.readIdent(lfn)
      let series = old
      let ident = oldIdent
      const keys = queue.map(({ input }) => this.instanceKeyOf(input.sopInstanceUid))
      // What was stored before, read at once for the whole batch.
      const stored = await this.store.readInstances(lfn, keys)
      const records = new Map<string, InstanceRecord>()
      const results: AddResult[] = []
      for (const [k, { input }] of queue.entries()) {
        const key = keys[k] as string
        const prev = records.get(key) ?? stored.get(key)
        const merged = mergeInstance({ lfn, key, input, old: series, oldIdent: ident, prev, now: Date.now() })
        series = merged.series
        ident = merged.ident
        records.set(key, merged.record)
        results.push({ lfn, instanceKey: key, newInstance: prev === undefined })
      }
      if (series !== undefined) {
        await this.store.write(series, ident, old, oldIdent, [...records.values()])
        if (series.state === 'receiving' || series.dirty) this.schedule(lfn, this.quietPeriodMs)
      }
      queue.forEach((q, k) => { const r = results[k]; if (r !== undefined) q.resolve(r) })
    } catch (err) {
      for (const q of queue) q.reject(err)
    }
  }

  /**
   * Start-up recovery only (see Ingestor.recover): an instance's file was lost
   * or cut by a crash before it was acknowledged. A virtual instance (the
   * PACS has it) keeps its record without a file; any other is forgotten.
   */
  async dropFile (lfn: string, key: string): Promise<void> {
    this.assertRunning()
    await this.locked(lfn, async () => {
      const old = await this.store.readSeries(lfn)
      const prev = await this.store.readInstance(lfn, key)
      if (old === undefined || prev?.file === undefined) return
      const ident = await this.store.readIdent(lfn)
      const series: SeriesRecord = { ...old, present: old.present - 1, bytes: old.bytes - (prev.size ?? 0) }
      const { file: _f, size: _s, ...rest } = prev
      if (old.origin === 'pacs') {
        await this.store.write(series, ident, old, ident, [rest])
      } else {
        series.instances--
        if (series.state === 'registered') series.dirty = true
        await this.store.write(series, ident, old, ident, [], [prev])
      }
    })
  }

  /**
   * Registers a series now (explicit `dm2 register`), by LFN or SeriesInstanceUID.
   * The version grows only when the series changed since its last registration.
   */
  async register (lfnOrSeriesUid: string): Promise<SeriesRecord> {
    this.assertRunning()
    const lfn = isLfn(lfnOrSeriesUid) ? lfnOrSeriesUid : this.lfnOf(lfnOrSeriesUid)
    const done = await this.locked(lfn, async () => {
      const old = await this.store.readSeries(lfn)
      if (old === undefined) throw new SeriesNotFoundError(lfn)
      this.cancelTimer(lfn)
      if (old.state === 'registered' && !old.dirty) return { series: old, changed: false }
      const series: SeriesRecord = { ...old, state: 'registered', dirty: false, version: old.version + 1, registeredAt: Date.now() }
      const ident = await this.store.readIdent(lfn)
      await this.store.write(series, ident, old, ident, [])
      return { series, changed: true }
    })
    if (done.changed) {
      this.log('registered %s v%d (%d instances)', lfn, done.series.version, done.series.instances)
      this.onRegistered?.(done.series)
    }
    return done.series
  }

  /**
   * Registers a series known only from a PACS C-FIND (`series`: its SERIES-level
   * attributes, with patient and study ones; `instances`: its IMAGE-level
   * answers). No slice is copied; `present` stays 0 until they are fetched.
   */
  async registerVirtual (series: AttrMap, instances: AttrMap[]): Promise<SeriesRecord> {
    const seriesUid = String(series.SeriesInstanceUID ?? '')
    const studyUid = String(series.StudyInstanceUID ?? '')
    if (seriesUid === '' || studyUid === '') throw new InvalidRegistryInputError('virtual series without StudyInstanceUID or SeriesInstanceUID')
    if (instances.length === 0) throw new InvalidRegistryInputError('virtual series without instances')
    for (const i of instances) {
      await this.addInstance({
        sopInstanceUid: String(i.SOPInstanceUID ?? ''),
        sopClassUid: String(i.SOPClassUID ?? ''),
        studyInstanceUid: studyUid,
        seriesInstanceUid: seriesUid,
        attributes: { ...series, ...i }
      })
    }
    return await this.register(this.lfnOf(seriesUid))
  }

  async get (lfn: string, options: { identified?: boolean } = {}): Promise<SeriesSummary | undefined> {
    const s = await this.store.readSeries(lfn)
    if (s === undefined) return undefined
    return options.identified === true ? { ...s, identifying: await this.store.readIdent(lfn) } : s
  }

  async lfnForSeriesUid (seriesInstanceUid: string): Promise<string | undefined> {
    return await this.store.lfnForSeriesUid(seriesInstanceUid)
  }

  async identifying (lfn: string): Promise<AttrMap> {
    if (await this.store.readSeries(lfn) === undefined) throw new SeriesNotFoundError(lfn)
    return await this.store.readIdent(lfn)
  }

  /** Series, descriptive fields only unless `identified`; filters use the indexes. */
  async list (options: ListOptions = {}): Promise<SeriesSummary[]> {
    const filters: Array<[IndexedField, string]> = []
    if (options.state !== undefined) filters.push(['state', options.state])
    if (options.modality !== undefined) filters.push(['modality', options.modality])
    if (options.bodyPart !== undefined) filters.push(['bodyPart', options.bodyPart])
    let lfns: string[]
    if (filters.length === 0) {
      lfns = await this.store.seriesKeys()
    } else {
      const sets = await Promise.all(filters.map(async ([f, v]) => await this.indexed(f, v)))
      lfns = (sets[0] ?? []).filter(l => sets.every(s => s.includes(l)))
    }
    const out: SeriesSummary[] = []
    for (const lfn of lfns) {
      const s = await this.get(lfn, { identified: options.identified === true })
      if (s !== undefined) out.push(s)
    }
    return out
  }

  /** LFNs with `field` = `value` in the index. */
  async indexed (field: IndexedField, value: string): Promise<string[]> {
    return await this.store.indexed(field, value)
  }

  /** Instances of a series, in InstanceNumber order. */
  async instances (lfn: string): Promise<InstanceRecord[]> {
    return await this.store.instances(lfn)
  }

  async instanceBySopUid (sopInstanceUid: string): Promise<{ lfn: string, instance: InstanceRecord } | undefined> {
    const ref = await this.store.instanceRef(sopInstanceUid)
    if (ref === undefined) return undefined
    const [lfn, key] = ref
    const instance = await this.store.readInstance(lfn, key)
    return instance === undefined ? undefined : { lfn, instance }
  }

  /**
   * Local administrator only — never reachable from a federation protocol:
   * forgets a series and returns the slice files to delete (relative paths).
   */
  async adminDelete (lfn: string): Promise<string[]> {
    this.assertRunning()
    return await this.locked(lfn, async () => {
      const s = await this.store.readSeries(lfn)
      if (s === undefined) throw new SeriesNotFoundError(lfn)
      this.cancelTimer(lfn)
      const ident = await this.store.readIdent(lfn)
      const instances = await this.store.instances(lfn)
      await this.store.deleteSeries(s, ident, instances)
      this.log('admin deleted %s (%d instances)', lfn, instances.length)
      return instances.flatMap(i => i.file === undefined ? [] : [i.file])
    })
  }

  /** Runs `fn` after every earlier operation on the same series (read-modify-write). */
  private async locked<T> (lfn: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(lfn) ?? Promise.resolve()
    const run = before.then(fn, fn)
    const tail = run.catch(() => {})
    this.locks.set(lfn, tail)
    try {
      return await run
    } finally {
      if (this.locks.get(lfn) === tail) this.locks.delete(lfn)
    }
  }

  private schedule (lfn: string, delayMs: number): void {
    if (!this.running) return
    this.cancelTimer(lfn)
    const timer = setTimeout(() => {
      this.timers.delete(lfn)
      this.register(lfn).catch(err => { this.log.error('registration of %s failed: %s', lfn, (err as Error).message) })
    }, Math.max(0, delayMs))
    this.timers.set(lfn, timer)
  }

  private cancelTimer (lfn: string): void {
    const t = this.timers.get(lfn)
    if (t !== undefined) clearTimeout(t)
    this.timers.delete(lfn)
  }

  private assertRunning (): void {
    if (!this.running) throw new RegistryStoppedError()
  }
}
