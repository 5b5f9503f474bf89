/**
 * PS3.15 Annex E Table E.1-1 keyed by tag.
 *
 * ```ts
 * import { profileRow } from './table/index.js'
 * profileRow('00100010')?.basic // 'Z' (Patient's Name)
 * profileRow('60023000')?.name // 'Overlay Data' (repeating group 60xx)
 * ```
 */
import { TABLE_E1_1 } from './e1-1.js'
import type { ProfileRow } from './types.js'

export type { BasicProfileAction, ProfileOption, ProfileRow } from './types.js'
export { TABLE_E1_1 } from './e1-1.js'

const exact = new Map<string, ProfileRow>()
const masks: Array<{ re: RegExp, row: ProfileRow }> = []
let privateRow: ProfileRow | undefined

for (const row of TABLE_E1_1) {
  if (row.tag === 'private') privateRow = row
  else if (row.tag.includes('x')) {
    // Repeating groups (PS3.5 7.6) use even groups only: 50xx and 60xx stand for 5000-50FE, 6000-60FE.
    masks.push({ re: new RegExp(`^${row.tag.replace(/x/g, '[0-9A-F]')}$`), row })
  } else exact.set(row.tag, row)
}

/** The private-attributes row ("(gggg,eeee) where gggg is odd"). */
export const PRIVATE_ROW: ProfileRow = privateRow ?? { tag: 'private', name: 'Private Attributes', vr: '', basic: 'X', std: false, options: {} }

/** Whether a `GGGGEEEE` tag is in an odd (private) group, PS3.5 §7.8. */
export function isPrivateTag (tag: string): boolean {
  return (Number.parseInt(tag.slice(0, 4), 16) & 1) === 1
}

/** Whether a tag is in an overlay repeating group (60xx, even), PS3.3 C.9.2. */
export function isOverlayTag (tag: string): boolean {
  return tag.startsWith('60') && !isPrivateTag(tag)
}

/** Row of Table E.1-1 for a `GGGGEEEE` tag (upper-case hex), or undefined when not listed. */
export function profileRow (tag: string): ProfileRow | undefined {
  const hit = exact.get(tag)
  if (hit !== undefined) return hit
  if (isPrivateTag(tag)) return PRIVATE_ROW
  if (tag.startsWith('5') || tag.startsWith('6')) {
    for (const { re, row } of masks) if (re.test(tag)) return row
  }
  return undefined
}
