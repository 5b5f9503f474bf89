/**
 * Resources a certificate covers: one file, or a semantic selector over a fixed
 * vocabulary — owner, modality, body part, study type, date range. No regexes,
 * no user code: a selector is a conjunction of per-field constraints, each a
 * finite set of exact values (or an inclusive date range), so "child covers no
 * more than parent" is decided structurally and soundly: every field the parent
 * constrains, the child constrains to a subset.
 */
import { KEY_BYTES, MAX_CONTENT_ID_LENGTH, MAX_LFN_LENGTH, MAX_SELECTOR_VALUES } from './constants.js'
import { keyId } from './ed25519.js'
import { bytes, compareBytes, compareStrings, equalBytes, fail, list, sortedUnique, strictMap, text } from './validate.js'

/** Modality defined terms, DICOM PS3.3 §C.7.3.1.1.1 (Modality (0008,0060)). */
export const MODALITIES = [
  'AR', 'ASMT', 'AU', 'BDUS', 'BI', 'BMD', 'CFM', 'CR', 'CT', 'CTPROTOCOL', 'DG', 'DMS', 'DOC', 'DX', 'ECG', 'EEG',
  'EMG', 'EOG', 'EPS', 'ES', 'FID', 'GM', 'HC', 'HD', 'IO', 'IOL', 'IVOCT', 'IVUS', 'KER', 'KO', 'LEN', 'LS', 'M3D',
  'MG', 'MR', 'NM', 'OAM', 'OCT', 'OP', 'OPM', 'OPT', 'OPTBSV', 'OPTENF', 'OPV', 'OSS', 'OT', 'PA', 'PLAN', 'POS',
  'PR', 'PT', 'PX', 'REG', 'RESP', 'RF', 'RG', 'RTDOSE', 'RTIMAGE', 'RTINTENT', 'RTPLAN', 'RTRAD', 'RTRECORD',
  'RTSEGANN', 'RTSTRUCT', 'RWV', 'SEG', 'SM', 'SMR', 'SR', 'SRF', 'STAIN', 'TEXTUREMAP', 'TG', 'US', 'VA', 'XA',
  'XAPROTOCOL', 'XC'
] as const

export type Modality = typeof MODALITIES[number]

const modalitySet: ReadonlySet<string> = new Set(MODALITIES)
/** Body Part Examined (0018,0015) is a CS value: upper case, digits, space, underscore, ≤ 16 chars (PS3.5 §6.2). */
const BODY_PART = /^[A-Z0-9_]([A-Z0-9_ ]{0,14}[A-Z0-9_])?$/
/** Study types are registry codes, e.g. `diagnostic`, `screening`, `follow-up`. */
const STUDY_TYPE = /^[a-z0-9][a-z0-9._-]{0,31}$/
/** DA, PS3.5 §6.2: YYYYMMDD. */
const DICOM_DATE = /^\d{8}$/
const CONTENT_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_CONTENT_ID_LENGTH}}$`)

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** True for a real calendar date (Gregorian, from 1800) written as DICOM DA. */
export function isDicomDate (value: string): boolean {
  if (!DICOM_DATE.test(value)) return false
  const y = Number(value.slice(0, 4))
  const m = Number(value.slice(4, 6))
  const d = Number(value.slice(6, 8))
  if (y < 1800 || m < 1 || m > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1] as number)
}

/** Inclusive range of DICOM dates; at least one bound. */
export interface DateRange {
  from?: string
  to?: string
}

/**
 * A conjunction of constraints; an absent field is unconstrained. Sets are
 * non-empty, sorted and without duplicates.
 */
export interface Selector {
  owner?: Uint8Array[]
  modality?: Modality[]
  bodyPart?: string[]
  studyType?: string[]
  date?: DateRange
}

export type Resource =
  | { file: { owner: Uint8Array, contentId: string } }
  | { selector: Selector }

export function parseKey (value: unknown, path: string): Uint8Array {
  return bytes(value, path, KEY_BYTES)
}

function dicomDate (value: unknown, path: string): string {
  if (typeof value !== 'string' || !isDicomDate(value)) fail(path, 'expected a DICOM date YYYYMMDD')
  return value
}

function stringSet (value: unknown, path: string, item: (v: unknown, path: string) => string): string[] {
  return sortedUnique(list(value, path, 1, MAX_SELECTOR_VALUES, item), path, compareStrings) as string[]
}

function modality (value: unknown, path: string): string {
  if (typeof value !== 'string' || !modalitySet.has(value)) fail(path, 'expected a DICOM modality')
  return value
}

/** Validates a decoded selector (strict: unknown fields rejected). */
export function parseSelector (value: unknown, path: string): Selector {
  const m = strictMap(value, path, [], ['owner', 'modality', 'bodyPart', 'studyType', 'date'])
  const out: Selector = {}
  if (m.owner !== undefined) out.owner = sortedUnique(list(m.owner, `${path}.owner`, 1, MAX_SELECTOR_VALUES, parseKey), `${path}.owner`, compareBytes) as Uint8Array[]
  if (m.modality !== undefined) out.modality = stringSet(m.modality, `${path}.modality`, modality) as Modality[]
  if (m.bodyPart !== undefined) out.bodyPart = stringSet(m.bodyPart, `${path}.bodyPart`, (v, p) => text(v, p, BODY_PART, 'a DICOM body part (CS)'))
  if (m.studyType !== undefined) out.studyType = stringSet(m.studyType, `${path}.studyType`, (v, p) => text(v, p, STUDY_TYPE, 'a study type code'))
  if (m.date !== undefined) {
    const d = strictMap(m.date, `${path}.date`, [], ['from', 'to'])
    const range: DateRange = {}
    if (d.from !== undefined) range.from = dicomDate(d.from, `${path}.date.from`)
    if (d.to !== undefined) range.to = dicomDate(d.to, `${path}.date.to`)
    if (range.from === undefined && range.to === undefined) fail(`${path}.date`, 'a date range needs from or to')
    if (range.from !== undefined && range.to !== undefined && range.from > range.to) fail(`${path}.date`, 'from is after to')
    out.date = range
  }
  return out
}

export function parseContentId (value: unknown, path: string): string {
  return text(value, path, CONTENT_ID, 'a content id (printable ASCII)')
}

/** Validates a decoded resource: `{ file: { owner, contentId } }` or `{ selector }`. */
export function parseResource (value: unknown, path: string): Resource {
  const m = strictMap(value, path, [], ['file', 'selector'])
  if (m.file !== undefined && m.selector === undefined) {
    const f = strictMap(m.file, `${path}.file`, ['owner', 'contentId'])
    return { file: { owner: parseKey(f.owner, `${path}.file.owner`), contentId: parseContentId(f.contentId, `${path}.file.contentId`) } }
  }
  if (m.selector !== undefined && m.file === undefined) return { selector: parseSelector(m.selector, `${path}.selector`) }
  return fail(path, 'expected exactly one of file, selector')
}

/**
 * What the serving node knows about the requested resource, from its own
 * registry. `owner` is the key whose authority governs the file (a patient's,
 * or the master hospital's); `custodian`, when set, is the master hospital's
 * key, which may also grant for its patients' files.
 */
export interface ResourceDescriptor {
  owner: Uint8Array
  custodian?: Uint8Array
  /** Content id (Merkle root of the manifest), as in file resources. */
  contentId: string
  /** Logical file name, for the audit log. */
  lfn?: string
  modality?: string
  bodyPart?: string
  /** DICOM DA, YYYYMMDD. */
  date?: string
  studyType?: string
}

const SHORT = /^[\x20-\x7e]{0,32}$/
const LFN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_LFN_LENGTH}}$`)

/** Checks a descriptor handed in by a protocol handler (local data, but still bounded). */
export function parseDescriptor (value: unknown): ResourceDescriptor {
  const m = strictMap(value, 'resource', ['owner', 'contentId'], ['custodian', 'lfn', 'modality', 'bodyPart', 'date', 'studyType'])
  parseKey(m.owner, 'resource.owner')
  if (m.custodian !== undefined) parseKey(m.custodian, 'resource.custodian')
  parseContentId(m.contentId, 'resource.contentId')
  if (m.lfn !== undefined) text(m.lfn, 'resource.lfn', LFN, 'a logical file name')
  if (m.date !== undefined) dicomDate(m.date, 'resource.date')
  for (const f of ['modality', 'bodyPart', 'studyType']) if (m[f] !== undefined) text(m[f], `resource.${f}`, SHORT, 'a short code')
  return value as ResourceDescriptor
}

const sameKey = equalBytes

function inSet (values: readonly string[] | undefined, value: string | undefined): boolean {
  return values === undefined || (value !== undefined && values.includes(value))
}

/** True when the selector's every constraint holds for the resource. */
export function selectorMatches (selector: Selector, resource: ResourceDescriptor): boolean {
  if (selector.owner !== undefined && !selector.owner.some(o => sameKey(o, resource.owner))) return false
  if (!inSet(selector.modality, resource.modality)) return false
  if (!inSet(selector.bodyPart, resource.bodyPart)) return false
  if (!inSet(selector.studyType, resource.studyType)) return false
  if (selector.date !== undefined) {
    const { from, to } = selector.date
    if (resource.date === undefined) return false
    if (from !== undefined && resource.date < from) return false
    if (to !== undefined && resource.date > to) return false
  }
  return true
}

/** True when the resource is (one of) what `resource` covers. */
export function resourceMatches (resource: Resource, descriptor: ResourceDescriptor): boolean {
  if ('file' in resource) return sameKey(resource.file.owner, descriptor.owner) && resource.file.contentId === descriptor.contentId
  return selectorMatches(resource.selector, descriptor)
}

function subset (child: readonly string[] | undefined, parent: readonly string[] | undefined): boolean {
  if (parent === undefined) return true
  return child !== undefined && child.every(v => parent.includes(v))
}

/** Why `child` may match something `parent` does not, or undefined when it adds constraints only. */
export function selectorWiderThan (child: Selector, parent: Selector): string | undefined {
  if (parent.owner !== undefined) {
    if (child.owner === undefined || !child.owner.every(c => parent.owner?.some(p => sameKey(c, p)) === true)) return 'owner'
  }
  if (!subset(child.modality, parent.modality)) return 'modality'
  if (!subset(child.bodyPart, parent.bodyPart)) return 'bodyPart'
  if (!subset(child.studyType, parent.studyType)) return 'studyType'
  if (parent.date !== undefined) {
    const c = child.date
    if (c === undefined) return 'date'
    if (parent.date.from !== undefined && (c.from === undefined || c.from < parent.date.from)) return 'date'
    if (parent.date.to !== undefined && (c.to === undefined || c.to > parent.date.to)) return 'date'
  }
  return undefined
}

/**
 * Why `child` covers more than `parent`, or undefined. A file under a file must
 * be the same file; a selector is never inside a single file; a file under a
 * selector passes when its owner fits — its other attributes are unknown
 * offline, and the access check matches the requested resource against every
 * link, so the effective resource is the intersection of all links.
 */
export function resourceWiderThan (child: Resource, parent: Resource): string | undefined {
  if ('file' in parent) {
    if (!('file' in child)) return 'a selector under a single file'
    if (!sameKey(child.file.owner, parent.file.owner) || child.file.contentId !== parent.file.contentId) return 'another file'
    return undefined
  }
  if ('file' in child) {
    const owners = parent.selector.owner
    if (owners !== undefined && !owners.some(o => sameKey(o, child.file.owner))) return 'a file of another owner'
    return undefined
  }
  const field = selectorWiderThan(child.selector, parent.selector)
  return field === undefined ? undefined : `selector widens ${field}`
}

/** A selector with its sets sorted and deduplicated, as the schema requires. */
export function normalizeSelector (selector: Selector): Selector {
  const out: Selector = {}
  if (selector.owner !== undefined) {
    const seen = new Map(selector.owner.map(k => [keyId(k), k]))
    out.owner = [...seen.values()].sort(compareBytes)
  }
  if (selector.modality !== undefined) out.modality = [...new Set(selector.modality)].sort(compareStrings)
  if (selector.bodyPart !== undefined) out.bodyPart = [...new Set(selector.bodyPart)].sort(compareStrings)
  if (selector.studyType !== undefined) out.studyType = [...new Set(selector.studyType)].sort(compareStrings)
  if (selector.date !== undefined) {
    const date: DateRange = {}
    if (selector.date.from !== undefined) date.from = selector.date.from
    if (selector.date.to !== undefined) date.to = selector.date.to
    out.date = date
  }
  return out
}
