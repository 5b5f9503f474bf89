/**
 * C-FIND attribute matching (PS3.4 C.2.2.2): universal (empty or `*`),
 * single value, wildcard (`*`, `?`), list of UIDs (`\`), and range (`a-b`)
 * for dates and times. Person names match case-insensitively, as most PACS
 * do (Orthanc's CaseSensitivePN=false). Sequence matching is not supported:
 * a sequence key matches everything and is returned empty. Pure.
 */
import type { AttrValue } from './fields.js'

/** One key of an identifier, as dcmjs naturalizes it (string, number, array, or `{ Alphabetic }` for PN). */
export function queryText (value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value.trim()
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) return value.map(queryText).join('\\')
  if (typeof value === 'object' && 'Alphabetic' in value) return queryText((value as { Alphabetic: unknown }).Alphabetic)
  return ''
}

function values (actual: AttrValue | undefined): string[] {
  if (actual === undefined) return []
  return (Array.isArray(actual) ? actual : [actual]).map(v => String(v).trim())
}

function wildcard (pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`, flags)
}

function inRange (q: string, actual: string): boolean {
  const dash = q.indexOf('-')
  const lo = q.slice(0, dash).trim()
  const hi = q.slice(dash + 1).trim()
  const a = actual.replace(/[^0-9.]/g, '')
  if (lo !== '' && a < lo.replace(/[^0-9.]/g, '')) return false
  // An upper bound covers everything it prefixes (`-20240101` includes that whole day).
  if (hi !== '' && a > hi.replace(/[^0-9.]/g, '') && !a.startsWith(hi.replace(/[^0-9.]/g, ''))) return false
  return true
}

/** Whether `actual` matches the identifier value `query` for an attribute of value representation `vr`. */
export function matches (query: unknown, actual: AttrValue | undefined, vr: string): boolean {
  const q = queryText(query)
  if (q === '' || q === '*' || vr === 'SQ') return true
  const found = values(actual)
  if (found.length === 0) return false
  if (vr === 'UI') {
    const wanted = new Set(q.split('\\').map(s => s.trim()))
    return found.some(v => wanted.has(v))
  }
  if ((vr === 'DA' || vr === 'TM' || vr === 'DT') && q.includes('-')) return found.some(v => inRange(q, v))
  const flags = vr === 'PN' ? 'i' : ''
  if (q.includes('*') || q.includes('?')) {
    const re = wildcard(q, flags)
    return found.some(v => re.test(v))
  }
  if (vr === 'IS' || vr === 'DS' || vr === 'US' || vr === 'UL' || vr === 'SS' || vr === 'SL' || vr === 'FL' || vr === 'FD') {
    const n = Number(q)
    return found.some(v => Number(v) === n)
  }
  if (vr === 'PN') return found.some(v => v.toLowerCase() === q.toLowerCase())
  return found.some(v => v === q) || (found.length > 1 && found.join('\\') === q)
}

/** The single UID (or list) a key asks for, when it narrows the search through an index; else undefined. */
export function exactValues (query: unknown): string[] | undefined {
  const q = queryText(query)
  if (q === '' || q.includes('*') || q.includes('?')) return undefined
  return q.split('\\').map(s => s.trim()).filter(s => s !== '')
}
