/**
 * C-FIND identifiers between dcmjs's naturalized form (what dcmjs-dimse
 * hands over: `{ PatientName: [{ Alphabetic }] }`, numbers, arrays) and the
 * registry's flat attributes. Pure.
 */
import type { AttrMap, AttrValue } from '../registry/index.js'
import { dictionaryVr } from './part10/dictionary.js'
import { tagOf } from './part10/index.js'
import type { QueryLevel } from './scp-find.js'

const BINARY = new Set(['US', 'UL', 'SS', 'SL', 'FL', 'FD', 'AT', 'SV', 'UV', 'SQ', 'OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN'])

/** The VR of a keyword from the data dictionary (LO when unknown). */
export function vrOfKeyword (keyword: string): string {
  const tag = tagOf(keyword)
  return tag === undefined ? 'LO' : dictionaryVr(tag)
}

/**
 * A zero-length value for `keyword` (universal matching, PS3.4 C.2.2.2.3):
 * dcmjs writes '' as a zero for binary VRs, so those get an empty array.
 */
export function emptyValue (keyword: string): '' | [] {
  return BINARY.has(vrOfKeyword(keyword)) ? [] : ''
}

/** Control keys of a response that are not attributes of the object. */
const CONTROL = new Set(['QueryRetrieveLevel', 'RetrieveAETitle', 'SpecificCharacterSet', 'InstanceAvailability', '_vrMap'])

function flat (value: unknown): AttrValue | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (Array.isArray(value)) {
    const parts = value.map(flat).filter((v): v is string | number => v !== undefined && !Array.isArray(v))
    if (parts.length === 0) return undefined
    return parts.length === 1 ? parts[0] : parts
  }
  if (typeof value === 'object' && 'Alphabetic' in value) return flat((value as { Alphabetic: unknown }).Alphabetic)
  return undefined
}

/** The non-empty attributes of a C-FIND answer, flattened. */
export function toAttributes (identifier: Record<string, unknown>): AttrMap {
  const out: AttrMap = {}
  for (const [k, v] of Object.entries(identifier)) {
    if (CONTROL.has(k)) continue
    const f = flat(v)
    if (f !== undefined) out[k] = f
  }
  return out
}

/** Return keys asked at each level when registering a series from the PACS. */
export const VIRTUAL_KEYS: Readonly<Record<'STUDY' | 'SERIES' | 'IMAGE', readonly string[]>> = {
  STUDY: ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyInstanceUID', 'StudyDate', 'StudyTime',
    'AccessionNumber', 'StudyID', 'StudyDescription', 'ReferringPhysicianName'],
  SERIES: ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'BodyPartExamined',
    'SeriesDate', 'SeriesTime', 'ProtocolName', 'NumberOfSeriesRelatedInstances'],
  IMAGE: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber', 'Rows', 'Columns',
    'ImagePositionPatient', 'ImageOrientationPatient', 'NumberOfFrames']
}

/** An identifier asking for `keys` (universal matching) with the given match values. */
export function identifierFor (level: QueryLevel, keys: readonly string[], match: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { QueryRetrieveLevel: level }
  for (const k of keys) out[k] = emptyValue(k)
  return { ...out, ...match }
}
