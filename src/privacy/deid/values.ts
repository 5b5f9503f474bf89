/** Value-level operations on one dcmjs raw element (pure apart from mutating that element). */
import { DUMMY_AGE, DUMMY_DATE, DUMMY_DATETIME, DUMMY_TEXT, DUMMY_TIME } from './constants.js'
import { shiftDate, shiftDateTime } from './dates.js'
import type { RawElement } from './dcmjs.js'
import { DeidFormatError } from './errors.js'
import { formatTag } from './report.js'
import { normalizeUid } from './uid.js'

/** VRs of free text and names: the ones replaced by a dummy inside a D sequence. */
export const TEXT_VRS = new Set(['AE', 'AS', 'DA', 'DT', 'TM', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT'])

/** Byte size of a dummy binary value: one unit of the VR, even (PS3.5 §7.1.1). */
const BINARY_DUMMY_BYTES: Record<string, number> = { OB: 2, OW: 2, UN: 2, OF: 4, OL: 4, OD: 8, OV: 8 }

function setValue (el: RawElement, value: unknown[]): void {
  el.Value = value
  // dcmjs writes `_rawValue` back when Value still matches it; a replaced value must not be.
  delete el._rawValue
  delete el.InlineBinary
}

export function isEmpty (el: RawElement): boolean {
  const v = el.Value
  if (v === undefined || v.length === 0) return el.InlineBinary === undefined
  return v.every(x => x === '' || x === null || x === undefined)
}

export function emptyValue (el: RawElement): void {
  setValue(el, [])
}

/**
 * Replace with a non-zero-length dummy consistent with the VR (action D). UIDs are not dummied
 * here (the caller maps them, so references stay consistent); VRs without a sensible dummy
 * (AT, 64-bit integers) are emptied.
 */
export function dummyValue (el: RawElement): 'D' | 'Z' {
  switch (el.vr) {
    case 'AE': case 'CS': case 'LO': case 'LT': case 'SH': case 'ST': case 'UC': case 'UR': case 'UT':
      setValue(el, [DUMMY_TEXT]); return 'D'
    case 'PN': setValue(el, [{ Alphabetic: DUMMY_TEXT }]); return 'D'
    case 'DA': setValue(el, [DUMMY_DATE]); return 'D'
    case 'TM': setValue(el, [DUMMY_TIME]); return 'D'
    case 'DT': setValue(el, [DUMMY_DATETIME]); return 'D'
    case 'AS': setValue(el, [DUMMY_AGE]); return 'D'
    case 'DS': case 'IS': case 'US': case 'SS': case 'UL': case 'SL': case 'FL': case 'FD':
      setValue(el, [0]); return 'D'
    default: {
      const size = BINARY_DUMMY_BYTES[el.vr]
      if (size === undefined) { setValue(el, []); return 'Z' }
      setValue(el, [new ArrayBuffer(size)]); return 'D'
    }
  }
}

/** Replace every UID value by its keyed mapping (action U). */
export function mapUidValues (el: RawElement, map: (uid: string) => string): void {
  const values = (el.Value ?? []).map(v => {
    if (typeof v !== 'string') return v
    const uid = normalizeUid(v)
    return uid === '' ? '' : map(uid)
  })
  setValue(el, values)
}

/** Shift DA / DT values by whole days (option C); false when a value cannot be shifted. */
export function shiftDates (el: RawElement, days: number): boolean {
  const shift = el.vr === 'DA' ? shiftDate : el.vr === 'DT' ? shiftDateTime : undefined
  if (shift === undefined) return false
  const out: string[] = []
  for (const v of el.Value ?? []) {
    if (v === '' || v === null || v === undefined) { out.push(''); continue }
    if (typeof v !== 'string') return false
    const shifted = shift(v, days)
    if (shifted === undefined) return false
    out.push(shifted)
  }
  setValue(el, out)
  return true
}

const IS_PATTERN = /^ *[+-]?[0-9]+ *$/
const DS_PATTERN = /^ *[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)? *$/

/**
 * Refuse IS / DS values that are not numbers (PS3.5 Table 6.2-1). dcmjs parses "1A" as 1 and
 * would write it back changed: a kept value must come out as it went in, or not at all.
 */
export function checkNumberStrings (tag: string, el: RawElement): void {
  const pattern = el.vr === 'IS' ? IS_PATTERN : el.vr === 'DS' ? DS_PATTERN : undefined
  if (pattern === undefined || !Array.isArray(el._rawValue)) return
  for (const v of el._rawValue as unknown[]) {
    if (typeof v === 'string' && v.trim() !== '' && !pattern.test(v.replace(/\0+$/, ''))) {
      throw new DeidFormatError('malformed', `${el.vr} value of ${formatTag(tag)} is not a number`)
    }
  }
}
