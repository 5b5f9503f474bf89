/**
 * What the registry stores, and how it is laid out in its level sublevel:
 *
 *   series/<lfn>                 SeriesRecord (descriptive metadata, state, counts)
 *   ident/<lfn>                  identifying attributes (PS3.15 E.1-1) of the series
 *   inst/<lfn>!<instance key>    InstanceRecord
 *   uid/s!<SeriesInstanceUID>    <lfn>
 *   uid/i!<SOPInstanceUID>       <lfn>!<instance key>
 *   idx/<field>!<value>!<lfn>    '' — indexes for the query fields
 *
 * Values are UTF-8 JSON: every value is a string, a number or an array of
 * them, and JSON is several times faster to write than CBOR here — one series
 * record is rewritten per received instance.
 */
import type { AttrMap } from './fields.js'

export type SeriesState = 'receiving' | 'registered'
/** `local`: this site holds the master copy; `pacs`: registered virtually from the PACS, slices fetched on demand. */
export type SeriesOrigin = 'local' | 'pacs'

export interface SeriesRecord {
  lfn: string
  state: SeriesState
  origin: SeriesOrigin
  /** 0 until first registered; +1 at each registration that changed the series. */
  version: number
  /** A registered series received an instance it did not have: it is re-registered after the quiet period. */
  dirty: boolean
  /** Instances known (from files or from the PACS). */
  instances: number
  /** Instances with a file in the slice store. */
  present: number
  bytes: number
  createdAt: number
  lastInstanceAt: number
  registeredAt?: number
  descriptive: AttrMap
}

export interface InstanceRecord {
  key: string
  sopInstanceUid: string
  sopClassUid: string
  transferSyntaxUid?: string
  /** Path relative to the slice store; absent while the slice is only at the PACS. */
  file?: string
  size?: number
  attributes: AttrMap
}

/** A series as the registry reports it; `identifying` only when asked for. */
export interface SeriesSummary extends SeriesRecord {
  identifying?: AttrMap
}

/** Fields with an index (`idx/`), and the attribute each one reads. */
export const INDEXED = {
  modality: { from: 'descriptive', key: 'Modality' },
  bodyPart: { from: 'descriptive', key: 'BodyPartExamined' },
  study: { from: 'identifying', key: 'StudyInstanceUID' },
  patient: { from: 'identifying', key: 'PatientID' }
} as const
export type IndexedField = keyof typeof INDEXED | 'state'

/** Index key; values are upper-cased for the descriptive fields (DICOM CS values are upper case). */
export function indexKey (field: IndexedField, value: string, lfn: string): string {
  return `${field}!${value}!${lfn}`
}

export function indexEntries (series: SeriesRecord, identifying: AttrMap): string[] {
  const out = [indexKey('state', series.state, series.lfn)]
  for (const [field, spec] of Object.entries(INDEXED) as Array<[keyof typeof INDEXED, typeof INDEXED[keyof typeof INDEXED]]>) {
    const source = spec.from === 'descriptive' ? series.descriptive : identifying
    const v = source[spec.key]
    if (typeof v === 'string' && v !== '' && !v.includes('!')) out.push(indexKey(field, v, series.lfn))
  }
  return out
}

const decoder = new TextDecoder()

export function pack (value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8')
}

export function unpack<T> (bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T
}
