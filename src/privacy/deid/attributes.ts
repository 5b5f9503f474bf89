/**
 * Reading the few attributes de-identification needs before it changes anything, and writing
 * the ones it adds: Patient Identity Removed, De-identification Method (Code Sequence),
 * Longitudinal Temporal Information Modified (PS3.15 E.1.1, PS3.3 C.7.1.1) and the rebuilt File
 * Meta Information (PS3.10 §7.1).
 */
import type { ImageDescription } from './burned-in.js'
import {
  CID_7050, DEID_METHOD_TEXT, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
} from './constants.js'
import type { RawDataset, RawElement } from './dcmjs.js'
import type { ResolvedOptions } from './options.js'
import type { ReportBuilder } from './report.js'

/** First value of an element as text ('' when absent); PN gives its alphabetic group. */
export function text (ds: RawDataset, tag: string): string {
  const v = ds[tag]?.Value?.[0]
  if (typeof v === 'string') return v.replace(/[\0 ]+$/, '')
  if (typeof v === 'number') return String(v)
  if (typeof v === 'object' && v !== null && 'Alphabetic' in v) return String((v as { Alphabetic?: unknown }).Alphabetic ?? '')
  return ''
}

function int (ds: RawDataset, tag: string, fallback: number): number {
  const n = Number.parseInt(text(ds, tag), 10)
  return Number.isFinite(n) ? n : fallback
}

export function describeImage (ds: RawDataset, transferSyntaxUid: string, encapsulated: boolean, littleEndian: boolean): ImageDescription {
  const bia = ds['00280301'] === undefined ? undefined : text(ds, '00280301')
  return {
    sopClassUid: text(ds, '00080016'),
    modality: text(ds, '00080060'),
    ...(bia === undefined ? {} : { burnedInAnnotation: bia }),
    manufacturer: text(ds, '00080070'),
    modelName: text(ds, '00081090'),
    rows: int(ds, '00280010', 0),
    columns: int(ds, '00280011', 0),
    samplesPerPixel: int(ds, '00280002', 1),
    bitsAllocated: int(ds, '00280100', 0),
    numberOfFrames: int(ds, '00280008', 1),
    planarConfiguration: int(ds, '00280006', 0),
    transferSyntaxUid,
    encapsulated,
    littleEndian
  }
}

/**
 * What identifies the patient, for the per-patient date shift: Patient ID with its issuer, else
 * name and birth date, else the study (then at least a study keeps its intervals).
 */
export function patientKey (ds: RawDataset): string {
  const id = text(ds, '00100020')
  if (id !== '') return `id\0${id}\0${text(ds, '00100021')}`
  const name = text(ds, '00100010')
  if (name !== '') return `name\0${name}\0${text(ds, '00100030')}`
  return `study\0${text(ds, '0020000D')}`
}

const code = ([value, meaning]: readonly [string, string]): RawDataset => ({
  '00080100': { vr: 'SH', Value: [value] },
  '00080102': { vr: 'SH', Value: ['DCM'] },
  '00080104': { vr: 'LO', Value: [meaning] }
})

/** Method texts and CID 7050 codes for these options. */
export function methodCodes (options: ResolvedOptions, pixelsCleaned: boolean): Array<readonly [string, string]> {
  const codes: Array<readonly [string, string]> = [CID_7050.basic]
  if (pixelsCleaned) codes.push(CID_7050.cleanPixels)
  if (options.dates === 'full') codes.push(CID_7050.longFull)
  if (options.dates === 'modified') codes.push(CID_7050.longModified)
  if (options.retainDeviceIdentity) codes.push(CID_7050.device)
  return codes
}

function set (ds: RawDataset, tag: string, el: RawElement, report: ReportBuilder): void {
  ds[tag] = el
  report.add('', tag, 'A', 'added')
}

export function addDeidAttributes (ds: RawDataset, options: ResolvedOptions, pixelsCleaned: boolean, report: ReportBuilder): string[] {
  const codes = methodCodes(options, pixelsCleaned)
  const method = [DEID_METHOD_TEXT, ...codes.map(([, meaning]) => meaning)]
  set(ds, '00120062', { vr: 'CS', Value: ['YES'] }, report)
  set(ds, '00120063', { vr: 'LO', Value: method }, report)
  // PS3.3 C.7.1.1: items already there record earlier de-identification steps; keep them, add ours.
  const previous = (ds['00120064']?.Value ?? []).filter((v): v is RawDataset => typeof v === 'object' && v !== null)
  const had = new Set(previous.map(item => text(item, '00080100')))
  const items = [...previous, ...codes.filter(([value]) => !had.has(value)).map(code)]
  set(ds, '00120064', { vr: 'SQ', Value: items }, report)
  const temporal = options.dates === 'full' ? 'UNMODIFIED' : options.dates === 'modified' ? 'MODIFIED' : 'REMOVED'
  set(ds, '00280303', { vr: 'CS', Value: [temporal] }, report)
  if (pixelsCleaned) set(ds, '00280301', { vr: 'CS', Value: ['NO'] }, report)
  return method
}

/** File Meta Information for the de-identified object; every original meta element is replaced. */
export function buildMeta (originalTags: readonly string[], sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string, report: ReportBuilder): RawDataset {
  for (const tag of originalTags) {
    if (tag === '00020000' || tag === '00020001' || tag === '00020002' || tag === '00020010') continue
    report.add('', tag, tag === '00020003' ? 'U' : 'X', tag === '00020003' ? 'table' : 'meta')
  }
  return {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClassUid] },
    '00020003': { vr: 'UI', Value: [sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [IMPLEMENTATION_VERSION_NAME] }
  }
}
