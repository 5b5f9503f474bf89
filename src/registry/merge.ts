/**
 * How one instance changes its series, as a pure function: split its
 * attributes (fields.ts), fold them into the series record (the first value
 * seen wins for series-level fields), count it, and mark a registered series
 * dirty when the instance is new to it.
 */
import { splitAttributes, type AttrMap } from './fields.js'
import type { InstanceRecord, SeriesRecord } from './records.js'

/** One instance to record, as inspected from its file (or as reported by a PACS C-FIND). */
export interface InstanceInput {
  sopInstanceUid: string
  sopClassUid: string
  studyInstanceUid: string
  seriesInstanceUid: string
  transferSyntaxUid?: string
  attributes: AttrMap
  /** The stored file, relative to the slice store; absent for a virtual instance. */
  file?: { path: string, size: number }
}

export interface MergeInput {
  lfn: string
  /** Instance key (see lfn.ts). */
  key: string
  input: InstanceInput
  /** What is stored now, if anything. */
  old: SeriesRecord | undefined
  oldIdent: AttrMap
  prev: InstanceRecord | undefined
  now: number
}

export interface Merged {
  series: SeriesRecord
  ident: AttrMap
  record: InstanceRecord
}

export function mergeInstance ({ lfn, key, input, old, oldIdent, prev, now }: MergeInput): Merged {
  const split = splitAttributes({ ...input.attributes, SOPClassUID: input.sopClassUid, ...(input.transferSyntaxUid === undefined ? {} : { TransferSyntaxUID: input.transferSyntaxUid }) })
  // Series-level identifying record: the instance's own UID stays with the instance.
  const { SOPInstanceUID: _sop, ...seriesIdentifying } = split.identifying
  const identifying: AttrMap = { ...seriesIdentifying, StudyInstanceUID: input.studyInstanceUid, SeriesInstanceUID: input.seriesInstanceUid }
  const series: SeriesRecord = old === undefined
    ? { lfn, state: 'receiving', origin: input.file === undefined ? 'pacs' : 'local', version: 0, dirty: false, instances: 0, present: 0, bytes: 0, createdAt: now, lastInstanceAt: now, descriptive: {} }
    : { ...old, descriptive: { ...old.descriptive } }
  for (const [k, v] of Object.entries(split.descriptive)) if (!(k in series.descriptive)) series.descriptive[k] = v
  const ident: AttrMap = { ...identifying, ...oldIdent }
  const record: InstanceRecord = {
    key,
    sopInstanceUid: input.sopInstanceUid,
    sopClassUid: input.sopClassUid,
    attributes: { ...prev?.attributes, ...split.instance }
  }
  const ts = input.transferSyntaxUid ?? prev?.transferSyntaxUid
  if (ts !== undefined) record.transferSyntaxUid = ts
  const file = input.file ?? (prev?.file === undefined ? undefined : { path: prev.file, size: prev.size ?? 0 })
  if (file !== undefined) { record.file = file.path; record.size = file.size }
  if (prev === undefined) series.instances++
  if (input.file !== undefined && prev?.file === undefined) series.present++
  series.bytes += (record.size ?? 0) - (prev?.size ?? 0)
  if (prev === undefined || input.file !== undefined) series.lastInstanceAt = now
  if (prev === undefined && series.state === 'registered') series.dirty = true
  return { series, ident, record }
}
