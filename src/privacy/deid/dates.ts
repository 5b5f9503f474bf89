/**
 * Date shifting for the Retain Longitudinal Temporal Information with Modified Dates Option
 * (PS3.15 E.3.6): every DA and the date part of every DT are moved by the same whole number of
 * days for one patient, so intervals between that patient's events are kept. TM values are kept:
 * a shift by whole days does not change the time of day.
 */

const DAY_MS = 86_400_000

function parseDate (s: string): number | undefined {
  // PS3.5 §6.2 DA is YYYYMMDD; "YYYY.MM.DD" is the ACR-NEMA form still found in old files.
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(s)
  if (m === null) return undefined
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const t = Date.UTC(y, mo - 1, d)
  const back = new Date(t)
  // Reject 20230230 and friends instead of letting Date roll them over.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined
  return t
}

function formatDate (t: number): string | undefined {
  const d = new Date(t)
  const y = d.getUTCFullYear()
  if (y < 1 || y > 9999) return undefined
  return `${String(y).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`
}

/** Shift one DA value by `days`; undefined when the value is not a full, valid date. */
export function shiftDate (value: string, days: number): string | undefined {
  const t = parseDate(value.trim())
  return t === undefined ? undefined : formatDate(t + days * DAY_MS)
}

/**
 * Shift the date part of one DT value (YYYYMMDD[HH[MM[SS[.F{1,6}]]]][&ZZXX]) by `days`, keeping
 * time and offset; undefined when it does not carry at least a full date (a bare year or month
 * cannot be shifted by days without changing its precision).
 */
export function shiftDateTime (value: string, days: number): string | undefined {
  const v = value.trim()
  const m = /^(\d{8})(\d{0,6}(?:\.\d{1,6})?)([+-]\d{4})?$/.exec(v)
  if (m === null) return undefined
  const date = shiftDate(m[1] ?? '', days)
  return date === undefined ? undefined : `${date}${m[2] ?? ''}${m[3] ?? ''}`
}
