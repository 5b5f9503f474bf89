/**
 * The registry's records in its level sublevel (layout in records.ts): reads,
 * atomic batch writes across the sublevels, index maintenance, and a small
 * in-memory copy of the series being written (each received instance rewrites
 * its series record; reading it back every time would double the cost), with
 * the instance keys of series created here (see HotSeries).
 * No locking here: the Registry serializes writes per series.
 */
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { AttrMap } from './fields.js'
import { indexEntries, pack, unpack, type IndexedField, type InstanceRecord, type SeriesRecord } from './records.js'

/** The level the registry is handed: a sublevel with string keys and byte values. */
export type RegistryDb = AbstractLevel<string | Buffer | Uint8Array, string, Uint8Array>
type Sub<V> = AbstractSublevel<RegistryDb, string | Buffer | Uint8Array, string, V>

/** Series kept in memory while they receive instances. */
const HOT_SERIES = 64

function sameAttributes (a: AttrMap, b: AttrMap): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every(k => JSON.stringify(a[k]) === JSON.stringify(b[k]))
}

interface HotSeries {
  series: SeriesRecord
  ident: AttrMap
  /**
   * Every instance key of the series, when it was created by this store (so
   * none can be stored that the set lacks): an instance new to the series,
   * the usual case while it is received, then costs no read.
   */
  keys?: Set<string>
}

export class RecordStore {
  private readonly db: RegistryDb
  private readonly series: Sub<Uint8Array>
  private readonly ident: Sub<Uint8Array>
  private readonly inst: Sub<Uint8Array>
  private readonly uid: Sub<string>
  private readonly idx: Sub<string>
  private readonly hot = new Map<string, HotSeries>()

  constructor (db: RegistryDb) {
    this.db = db
    const bytes = { valueEncoding: 'view' } as const
    this.series = db.sublevel<string, Uint8Array>('series', bytes) as Sub<Uint8Array>
    this.ident = db.sublevel<string, Uint8Array>('ident', bytes) as Sub<Uint8Array>
    this.inst = db.sublevel<string, Uint8Array>('inst', bytes) as Sub<Uint8Array>
    this.uid = db.sublevel<string, string>('uid', { valueEncoding: 'utf8' }) as Sub<string>
    this.idx = db.sublevel<string, string>('idx', { valueEncoding: 'utf8' }) as Sub<string>
  }

  async allSeries (): Promise<SeriesRecord[]> {
    return (await this.series.values().all()).map(v => unpack<SeriesRecord>(v))
  }

  async seriesKeys (): Promise<string[]> {
    return await this.series.keys().all()
  }

  async readSeries (lfn: string): Promise<SeriesRecord | undefined> {
    const hot = this.hot.get(lfn)
    if (hot !== undefined) return hot.series
    const v = await this.series.get(lfn)
    return v === undefined ? undefined : unpack<SeriesRecord>(v)
  }

  async readIdent (lfn: string): Promise<AttrMap> {
    const hot = this.hot.get(lfn)
    if (hot !== undefined) return hot.ident
    const v = await this.ident.get(lfn)
    return v === undefined ? {} : unpack<AttrMap>(v)
  }

  async readInstance (lfn: string, key: string): Promise<InstanceRecord | undefined> {
    const keys = this.hot.get(lfn)?.keys
    if (keys !== undefined && !keys.has(key)) return undefined
    const v = await this.inst.get(`${lfn}!${key}`)
    return v === undefined ? undefined : unpack<InstanceRecord>(v)
  }

  /** Records of several instances of a series, in one read (absent ones undefined). */
  async readInstances (lfn: string, keys: string[]): Promise<Map<string, InstanceRecord>> {
    const hotKeys = this.hot.get(lfn)?.keys
    const wanted = [...new Set(hotKeys === undefined ? keys : keys.filter(k => hotKeys.has(k)))]
    const found = new Map<string, InstanceRecord>()
    if (wanted.length === 0) return found
    const values = await this.inst.getMany(wanted.map(k => `${lfn}!${k}`))
    wanted.forEach((k, i) => {
      const v = values[i]
      if (v !== undefined) found.set(k, unpack<InstanceRecord>(v))
    })
    return found
  }

  /** Instances of a series, in InstanceNumber order. */
  async instances (lfn: string): Promise<InstanceRecord[]> {
    const list = await this.inst.values({ gte: `${lfn}!`, lt: `${lfn}!\xff` }).all()
    return list.map(v => unpack<InstanceRecord>(v)).sort((a, b) => Number(a.attributes.InstanceNumber ?? 0) - Number(b.attributes.InstanceNumber ?? 0))
  }

  async lfnForSeriesUid (seriesInstanceUid: string): Promise<string | undefined> {
    return await this.uid.get(`s!${seriesInstanceUid}`)
  }

  /** `<lfn>!<instance key>` of a SOP instance. */
  async instanceRef (sopInstanceUid: string): Promise<[string, string] | undefined> {
    const ref = await this.uid.get(`i!${sopInstanceUid}`)
    if (ref === undefined) return undefined
    const [lfn = '', key = ''] = ref.split('!')
    return [lfn, key]
  }

  /** LFNs with `field` = `value` in the index. */
  async indexed (field: IndexedField, value: string): Promise<string[]> {
    const prefix = `${field}!${value}!`
    const keys = await this.idx.keys({ gte: prefix, lt: prefix + '\xff' }).all()
    return keys.map(k => k.slice(prefix.length))
  }

  /** Writes a series (and instances of it, `removed` ones deleted) in one batch; `old`/`oldIdent` are what was stored before. */
  async write (series: SeriesRecord, ident: AttrMap, old: SeriesRecord | undefined, oldIdent: AttrMap, instances: InstanceRecord[], removed: InstanceRecord[] = []): Promise<void> {
    const batch = this.db.batch()
    batch.put(series.lfn, pack(series), { sublevel: this.series })
    // Identifying record, UID map and indexes change rarely: written only when they do.
    if (old === undefined || !sameAttributes(ident, oldIdent)) {
      batch.put(series.lfn, pack(ident), { sublevel: this.ident })
      batch.put(`s!${String(ident.SeriesInstanceUID)}`, series.lfn, { sublevel: this.uid })
    }
    const before = new Set(old === undefined ? [] : indexEntries(old, oldIdent))
    const next = new Set(indexEntries(series, ident))
    for (const k of before) if (!next.has(k)) batch.del(k, { sublevel: this.idx })
    for (const k of next) if (!before.has(k)) batch.put(k, '', { sublevel: this.idx })
    for (const i of instances) {
      batch.put(`${series.lfn}!${i.key}`, pack(i), { sublevel: this.inst })
      batch.put(`i!${i.sopInstanceUid}`, `${series.lfn}!${i.key}`, { sublevel: this.uid })
    }
    for (const i of removed) {
      batch.del(`${series.lfn}!${i.key}`, { sublevel: this.inst })
      batch.del(`i!${i.sopInstanceUid}`, { sublevel: this.uid })
    }
    await batch.write()
    const keys = old === undefined ? new Set<string>() : this.hot.get(series.lfn)?.keys
    if (keys !== undefined) {
      for (const i of instances) keys.add(i.key)
      for (const i of removed) keys.delete(i.key)
    }
    this.remember({ series, ident, ...(keys === undefined ? {} : { keys }) })
  }

  /** Removes a series, its instances, UID entries and index entries in one batch. */
  async deleteSeries (series: SeriesRecord, ident: AttrMap, instances: InstanceRecord[]): Promise<void> {
    const batch = this.db.batch()
    batch.del(series.lfn, { sublevel: this.series })
    batch.del(series.lfn, { sublevel: this.ident })
    batch.del(`s!${String(ident.SeriesInstanceUID ?? '')}`, { sublevel: this.uid })
    for (const k of indexEntries(series, ident)) batch.del(k, { sublevel: this.idx })
    for (const i of instances) {
      batch.del(`${series.lfn}!${i.key}`, { sublevel: this.inst })
      batch.del(`i!${i.sopInstanceUid}`, { sublevel: this.uid })
    }
    await batch.write()
    this.hot.delete(series.lfn)
  }

  private remember (entry: HotSeries): void {
    const series = entry.series
    this.hot.delete(series.lfn)
    if (this.hot.size >= HOT_SERIES) {
      const oldest = this.hot.keys().next().value
      if (oldest !== undefined) this.hot.delete(oldest)
    }
    this.hot.set(series.lfn, entry)
  }
}
