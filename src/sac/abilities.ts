/**
 * What a certificate lets its audience do. A fixed list: a verifier that does
 * not know an ability refuses the certificate (strict schema), rather than
 * guessing what it might allow.
 */

export const ABILITIES = [
  /** De-identified volume / slices. */
  'image/read',
  /** Image with identifying DICOM attributes; implies image/read. */
  'image/read-identified',
  /** Descriptive metadata (modality, body part, geometry, …). */
  'meta/read',
  /** Identifying metadata (patient, dates, physicians, …); implies meta/read. */
  'meta/read-identified',
  /** Appear in federation-wide query results. */
  'query',
  /** Take part in similarity ranking (feature index). */
  'similarity',
  /** Add annotations. */
  'annotate',
  /** Issue narrower certificates to others (needs remaining depth ≥ 1). */
  'delegate'
] as const

export type Ability = typeof ABILITIES[number]

/** An identified-access ability contains its de-identified counterpart. */
const IMPLIES: Partial<Record<Ability, Ability>> = {
  'image/read-identified': 'image/read',
  'meta/read-identified': 'meta/read'
}

/** The abilities granted, with implied ones added. */
export function abilityClosure (abilities: readonly Ability[]): Set<Ability> {
  const out = new Set<Ability>(abilities)
  for (const a of abilities) {
    const implied = IMPLIES[a]
    if (implied !== undefined) out.add(implied)
  }
  return out
}

/** True when `abilities` grant `required`, directly or by implication. */
export function grants (abilities: readonly Ability[], required: Ability): boolean {
  for (const a of abilities) {
    if (a === required || IMPLIES[a] === required) return true
  }
  return false
}

/** The abilities in `child` not covered by `parent` (empty: child narrows or equals parent). */
export function abilitiesBeyond (child: readonly Ability[], parent: readonly Ability[]): Ability[] {
  return child.filter(a => !grants(parent, a))
}
