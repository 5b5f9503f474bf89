/**
 * C-FIND answered from the local registry, at the PATIENT, STUDY, SERIES and
 * IMAGE levels of the Patient Root and Study Root models (PS3.4 C.6.1,
 * C.6.2). Only series with instances on this node are visible: what a C-FIND
 * finds, a C-GET or C-MOVE can serve. Keys below the query level are ignored
 * (PS3.4 C.4.1.2.1 hierarchical search); each answer carries every requested
 * key, empty when the node does not know it.
 */
import { InvalidQueryError } from './errors.js'
import { keywordOf, tagOf } from './part10/index.js'
import { emptyValue, vrOfKeyword } from './identifiers.js'
import { exactValues, matches, queryText, type AttrMap, type AttrValue, type Registry, type SeriesSummary } from '../registry/index.js'

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE'
const LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE']

/** Keys each level owns (PS3.4 Tables C.6-1 to C.6-4); other keys belong to the level of their module. */
const LEVEL_OF: Readonly<Record<string, QueryLevel>> = {
  StudyInstanceUID: 'STUDY',
  StudyDate: 'STUDY',
  StudyTime: 'STUDY',
  AccessionNumber: 'STUDY',
  StudyID: 'STUDY',
  StudyDescription: 'STUDY',
  ReferringPhysicianName: 'STUDY',
  ModalitiesInStudy: 'STUDY',
  NumberOfStudyRelatedSeries: 'STUDY',
  NumberOfStudyRelatedInstances: 'STUDY',
  SeriesInstanceUID: 'SERIES',
  Modality: 'SERIES',
  SeriesNumber: 'SERIES',
  SeriesDescription: 'SERIES',
  SeriesDate: 'SERIES',
  SeriesTime: 'SERIES',
  BodyPartExamined: 'SERIES',
  NumberOfSeriesRelatedInstances: 'SERIES',
  SOPInstanceUID: 'IMAGE',
  SOPClassUID: 'IMAGE',
  InstanceNumber: 'IMAGE'
}

function levelOfKey (keyword: string): QueryLevel {
  if (keyword.startsWith('Patient') || keyword === 'IssuerOfPatientID' || keyword.startsWith('OtherPatient') || keyword.startsWith('NumberOfPatientRelated')) return 'PATIENT'
  return LEVEL_OF[keyword] ?? 'SERIES'
}

export function parseLevel (identifier: Record<string, unknown>): QueryLevel {
  const level = queryText(identifier.QueryRetrieveLevel).toUpperCase()
  if (!(LEVELS as readonly string[]).includes(level)) throw new InvalidQueryError(`invalid QueryRetrieveLevel ${JSON.stringify(level)}`)
  return level as QueryLevel
}

const vrOf = vrOfKeyword

/** Keys of the identifier that select (not the control keys). */
function selectionKeys (identifier: Record<string, unknown>): string[] {
  return Object.keys(identifier).filter(k => k !== 'QueryRetrieveLevel' && k !== 'SpecificCharacterSet' && k !== '_vrMap' && tagOf(k) !== undefined && keywordOf(tagOf(k) ?? 0) === k)
}

function rowMatches (identifier: Record<string, unknown>, keys: string[], row: AttrMap, upTo: QueryLevel): boolean {
  const depth = LEVELS.indexOf(upTo)
  return keys.every(k => {
    if (LEVELS.indexOf(levelOfKey(k)) > depth) return true
    if (k === 'ModalitiesInStudy') {
      // Known only once a study's series are grouped; checked again then.
      if (row[k] === undefined) return true
      const q = exactValues(identifier[k])
      const have = Array.isArray(row[k]) ? (row[k] as string[]) : [String(row[k] ?? '')]
      return q === undefined || q.some(m => have.includes(m))
    }
    return matches(identifier[k], row[k], vrOf(k))
  })
}

/** The flat attribute view of a series, raw (identifying) values over descriptive ones. */
function seriesRow (s: SeriesSummary): AttrMap {
  return { ...s.descriptive, ...s.identifying, NumberOfSeriesRelatedInstances: s.present }
}

async function candidates (registry: Registry, identifier: Record<string, unknown>): Promise<SeriesSummary[]> {
  const series = exactValues(identifier.SeriesInstanceUID)
  const study = exactValues(identifier.StudyInstanceUID)
  const patient = exactValues(identifier.PatientID)
  let lfns: string[] | undefined
  if (series !== undefined) {
    lfns = (await Promise.all(series.map(async uid => await registry.lfnForSeriesUid(uid)))).filter((l): l is string => l !== undefined)
  } else if (study !== undefined) {
    lfns = (await Promise.all(study.map(async uid => await registry.indexed('study', uid)))).flat()
  } else if (patient?.length === 1 && patient[0] !== undefined) {
    lfns = await registry.indexed('patient', patient[0])
  }
  const all = lfns === undefined
    ? await registry.list({ identified: true })
    : (await Promise.all(lfns.map(async l => await registry.get(l, { identified: true })))).filter((s): s is SeriesSummary => s !== undefined)
  return all.filter(s => s.present > 0)
}

function answer (identifier: Record<string, unknown>, keys: string[], level: QueryLevel, row: AttrMap, retrieveAeTitle: string): Record<string, unknown> {
  const out: Record<string, unknown> = { QueryRetrieveLevel: level, SpecificCharacterSet: 'ISO_IR 192', RetrieveAETitle: retrieveAeTitle }
  for (const k of keys) {
    const v: AttrValue | undefined = row[k]
    out[k] = LEVELS.indexOf(levelOfKey(k)) > LEVELS.indexOf(level) || vrOf(k) === 'SQ' || v === undefined ? emptyValue(k) : v
  }
  return out
}

const BINARY_NUMBERS = new Set(['US', 'UL', 'SS', 'SL', 'FL', 'FD', 'SV', 'UV'])

/**
 * dcmjs reads a zero-length binary value (universal matching, PS3.4
 * C.2.2.2.3) as 0; a real query on "Rows = 0" means nothing, so 0 is read
 * back as universal for binary VRs.
 */
function normalize (identifier: Record<string, unknown>): Record<string, unknown> {
  const out = { ...identifier }
  for (const [k, v] of Object.entries(out)) {
    if ((v === 0 || (Array.isArray(v) && v.length === 1 && v[0] === 0)) && BINARY_NUMBERS.has(vrOf(k))) out[k] = ''
  }
  return out
}

/** Rows answering one C-FIND, at most `max` (then `truncated`). */
export async function findRows (registry: Registry, query: Record<string, unknown>, retrieveAeTitle: string, max: number): Promise<{ rows: Array<Record<string, unknown>>, truncated: boolean }> {
  const identifier = normalize(query)
  const level = parseLevel(identifier)
  const keys = selectionKeys(identifier)
  const series = (await candidates(registry, identifier)).filter(s => rowMatches(identifier, keys, seriesRow(s), level === 'IMAGE' ? 'SERIES' : level))
  const rows: AttrMap[] = []
  if (level === 'SERIES') {
    rows.push(...series.map(seriesRow))
  } else if (level === 'IMAGE') {
    for (const s of series) {
      for (const i of await registry.instances(s.lfn)) {
        if (i.file === undefined) continue
        const row: AttrMap = { ...seriesRow(s), ...i.attributes, SOPInstanceUID: i.sopInstanceUid, SOPClassUID: i.sopClassUid }
        if (rowMatches(identifier, keys, row, 'IMAGE')) rows.push(row)
        if (rows.length > max) break
      }
    }
  } else {
    const groupKey = level === 'STUDY' ? 'StudyInstanceUID' : 'PatientID'
    const groups = new Map<string, SeriesSummary[]>()
    for (const s of series) {
      const k = String(s.identifying?.[groupKey] ?? '')
      groups.set(k, [...(groups.get(k) ?? []), s])
    }
    for (const members of groups.values()) {
      const first = members[0]
      if (first === undefined) continue
      const instances = members.reduce((n, s) => n + s.present, 0)
      const modalities = [...new Set(members.map(s => String(s.descriptive.Modality ?? '')).filter(m => m !== ''))]
      const studies = new Set(members.map(s => String(s.identifying?.StudyInstanceUID ?? '')))
      const row: AttrMap = {
        ...seriesRow(first),
        ModalitiesInStudy: modalities,
        NumberOfStudyRelatedSeries: members.length,
        NumberOfStudyRelatedInstances: instances,
        NumberOfPatientRelatedStudies: studies.size,
        NumberOfPatientRelatedSeries: members.length,
        NumberOfPatientRelatedInstances: instances
      }
      if (rowMatches(identifier, keys, row, level)) rows.push(row)
    }
  }
  const truncated = rows.length > max
  return { rows: rows.slice(0, max).map(r => answer(identifier, keys, level, r, retrieveAeTitle)), truncated }
}
