/**
 * Date literals. The canonical form is DICOM DA, `YYYYMMDD` (PS3.5 §6.2),
 * which orders chronologically as a string. Also accepted, as in the paper
 * (§4.5, `date="14May2003"`): day, English month name or three-letter
 * abbreviation, four-digit year, optionally separated by spaces. ISO
 * `2003-05-14` is not accepted: `-` is the DICOM range separator
 * (PS3.4 C.2.2.2.5), `"20030501-20030531"`.
 */

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december']

function daysIn (month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

function monthNumber (name: string): number | undefined {
  const n = name.toLowerCase()
  const i = MONTHS.findIndex(m => m === n || (n.length === 3 && m.startsWith(n)))
  return i === -1 ? undefined : i + 1
}

function format (year: number, month: number, day: number): string | undefined {
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined
  return `${String(year).padStart(4, '0')}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`
}

/** `YYYYMMDD` for a date literal, or `undefined` if it is not a real calendar date. */
export function parseDate (text: string): string | undefined {
  const t = text.trim()
  const da = /^(\d{4})(\d{2})(\d{2})$/.exec(t)
  if (da !== null) return format(Number(da[1]), Number(da[2]), Number(da[3]))
  const named = /^(\d{1,2}) *([A-Za-z]{3,9}) *(\d{4})$/.exec(t)
  if (named === null) return undefined
  const month = monthNumber(named[2] ?? '')
  return month === undefined ? undefined : format(Number(named[3]), month, Number(named[1]))
}

/** A date or a DICOM range: `{ low, high }`, either bound absent for an open range, never both. */
export interface DateRange { low?: string, high?: string }

/**
 * A date range literal `A-B`, `A-` or `-B` (PS3.4 C.2.2.2.5.1), bounds in any
 * accepted date form; `undefined` if it is not one (including a plain date).
 */
export function parseDateRange (text: string): DateRange | undefined {
  const dash = text.indexOf('-')
  if (dash === -1 || text.indexOf('-', dash + 1) !== -1) return undefined
  const lo = text.slice(0, dash).trim()
  const hi = text.slice(dash + 1).trim()
  if (lo === '' && hi === '') return undefined
  const low = lo === '' ? undefined : parseDate(lo)
  const high = hi === '' ? undefined : parseDate(hi)
  if ((lo !== '' && low === undefined) || (hi !== '' && high === undefined)) return undefined
  return { ...(low === undefined ? {} : { low }), ...(high === undefined ? {} : { high }) }
}

/**
 * A date as stored in a metadata record: DA `YYYYMMDD`, or the ACR-NEMA
 * `YYYY.MM.DD` PS3.5 still mentions, or ISO `YYYY-MM-DD`; else `undefined`.
 * Not checked against the calendar (a stored value is what it is).
 */
export function recordDate (value: string | number): string | undefined {
  const m = /^(\d{4})[.-]?(\d{2})[.-]?(\d{2})$/.exec(typeof value === 'number' ? String(value) : value.trim())
  return m === null ? undefined : `${m[1] ?? ''}${m[2] ?? ''}${m[3] ?? ''}`
}
