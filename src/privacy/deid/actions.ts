/**
 * Which action to take for a row of Table E.1-1 under the selected options (pure).
 *
 * Compound Basic Profile actions (X/Z, X/D, Z/D, X/Z/D) let the de-identifier keep an attribute
 * when the IOD requires it (Type 1 or 2). Which Type an attribute has depends on the IOD and
 * sometimes on conditions, so rather than guess we always take the choice that is conformant
 * whatever the Type and reveals nothing: D (a dummy value) when D is allowed, else Z (empty).
 * X/Z/U* on a sequence keeps the sequence and cleans its items with the table, so the UIDs in
 * it are replaced (U) and everything else in it gets its own row's action.
 *
 * Options: K (keep) and C (clean) from the selected option columns override the basic action.
 * C is implemented for dates only (the Modified Dates shift); where C applies to another VR
 * (e.g. an AE title under Retain Device Identity) the stricter basic action is taken. When two
 * selected options disagree, C wins over K (the more protective of the two).
 */
import type { ResolvedOptions } from './options.js'
import type { ProfileOption, ProfileRow } from './table/index.js'

/** `R`: keep the sequence and process its items with the table (X/Z/U*). */
export type Action = 'X' | 'Z' | 'D' | 'U' | 'K' | 'C' | 'R'

const DATE_VRS = new Set(['DA', 'DT', 'TM'])

function selectedOptions (o: ResolvedOptions): ProfileOption[] {
  const selected: ProfileOption[] = []
  if (o.dates === 'full') selected.push('longFull')
  if (o.dates === 'modified') selected.push('longModified')
  if (o.retainDeviceIdentity) selected.push('device')
  return selected
}

/** The basic profile action with compound actions resolved (see module comment). */
export function basicAction (row: ProfileRow): Action {
  switch (row.basic) {
    case 'X': return 'X'
    case 'Z': return 'Z'
    case 'D': return 'D'
    case 'U': return 'U'
    case 'X/Z': return 'Z'
    case 'X/D':
    case 'Z/D':
    case 'X/Z/D': return 'D'
    case 'X/Z/U*': return 'R'
  }
}

/**
 * Action for an element with this row and VR; `fromOption` tells whether a selected option (not
 * the basic profile) decided it.
 */
export function resolveAction (row: ProfileRow, vr: string, options: ResolvedOptions): { action: Action, fromOption: boolean } {
  let keep = false
  let clean = false
  for (const option of selectedOptions(options)) {
    const a = row.options[option]
    if (a === 'K') keep = true
    if (a === 'C' && DATE_VRS.has(vr)) clean = true
  }
  // A TM is unchanged by a shift of whole days: "clean" keeps it.
  if (clean) return { action: vr === 'TM' ? 'K' : 'C', fromOption: true }
  if (keep) return { action: 'K', fromOption: true }
  return { action: basicAction(row), fromOption: false }
}
