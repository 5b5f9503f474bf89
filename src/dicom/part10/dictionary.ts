/**
 * Attribute names and VRs from the dcmjs data dictionary (PS3.6), used to
 * name the elements the parser keeps and to know the VR of an implicit-VR
 * element (PS3.5 §7.1.3).
 */
import { createRequire } from 'node:module'

interface DictEntry { tag: string, vr: string, name: string }
interface DcmjsDictionary {
  data: { DicomMetaDictionary: { dictionary: Record<string, DictEntry | undefined>, nameMap: Record<string, DictEntry | undefined> } }
}

const require = createRequire(import.meta.url)
const meta = (require('dcmjs') as DcmjsDictionary).data.DicomMetaDictionary

/** dcmjs's prefix for retired attributes' keywords; PS3.6 keywords have none. */
const RETIRED = 'RETIRED_'

/** `(GGGG,EEEE)` of a numeric tag. */
export function tagKey (tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0')
  return `(${hex.slice(0, 4)},${hex.slice(4)})`
}

/** Numeric tag of a dictionary keyword, e.g. `PatientName` → 0x00100010; undefined if unknown. */
export function tagOf (keyword: string): number | undefined {
  const entry = meta.nameMap[keyword] ?? meta.nameMap[RETIRED + keyword]
  if (entry === undefined) return undefined
  return Number.parseInt(entry.tag.replace(/[(),]/g, ''), 16) >>> 0
}

/** Keyword of a tag (PS3.6, retired ones too), or undefined for private and unknown tags. */
export function keywordOf (tag: number): string | undefined {
  if (((tag >>> 16) & 1) === 1) return undefined
  if (keywords.has(tag)) return keywords.get(tag)
  const name = meta.dictionary[tagKey(tag)]?.name
  const keyword = name?.startsWith(RETIRED) === true ? name.slice(RETIRED.length) : name
  // The dictionary is a Proxy keyed by strings; standard tags are few, so their keywords are kept.
  if (keywords.size < 20_000) keywords.set(tag, keyword)
  return keyword
}

const keywords = new Map<number, string | undefined>()

/** VR of a tag for implicit-VR data sets; `UN` when unknown or ambiguous (`ox`, `xs`). */
export function dictionaryVr (tag: number): string {
  if (((tag >>> 16) & 1) === 1) return 'UN'
  const vr = meta.dictionary[tagKey(tag)]?.vr
  if (vr === undefined || vr.length !== 2 || vr !== vr.toUpperCase()) return tag === 0x7fe00010 ? 'OW' : 'UN'
  return vr
}
