/**
 * The per-object report of what de-identification did: tags and actions only, never a value,
 * so it can be logged, audited and shipped with the object.
 */

/** PS3.15 E.1.1 action letters actually taken, plus `A` for attributes this tool added or set. */
export type ReportAction = 'X' | 'Z' | 'D' | 'U' | 'C' | 'K' | 'A'

export type ReportReason =
  | 'table' // a row of Table E.1-1, basic profile action
  | 'option' // a row of Table E.1-1, action of a selected option (K or C)
  | 'private' // odd group, PS3.15 E.1.1 "(gggg,eeee) where gggg is odd"
  | 'overlay' // rest of an overlay repeating group whose Overlay Data is removed
  | 'group-length' // (gggg,0000) group lengths, which the changes make wrong
  | 'meta' // File Meta Information rebuilt
  | 'unparsed-sequence' // a sequence encoded as UN whose items cannot be cleaned
  | 'dummy-sequence' // a value inside a sequence whose action is D
  | 'after-pixel-data' // top-level elements after Pixel Data (padding, signatures)
  | 'added' // PatientIdentityRemoved, DeidentificationMethod(CodeSequence), ...

export interface ReportEntry {
  /** `(GGGG,EEEE)` at top level; `(0040,A730)[0].(0040,A124)` inside sequence items. */
  readonly path: string
  readonly action: ReportAction
  readonly reason: ReportReason
}

export interface DeidReport {
  /** Table edition and options, as written into De-identification Method (0012,0063). */
  readonly method: readonly string[]
  readonly sopClassUid: string
  /** Transfer syntax of the output (a Deflated input is written as Explicit VR Little Endian). */
  readonly transferSyntaxUid: string
  /** Name of the pixel-cleaning rule applied, if any. */
  readonly pixelCleaningRule?: string
  readonly entries: readonly ReportEntry[]
  readonly counts: Readonly<Record<ReportAction, number>>
}

export const formatTag = (tag: string): string => `(${tag.slice(0, 4)},${tag.slice(4)})`

/** Collects entries while a data set is processed. */
export class ReportBuilder {
  readonly entries: ReportEntry[] = []

  add (prefix: string, tag: string, action: ReportAction, reason: ReportReason): void {
    this.entries.push({ path: prefix + formatTag(tag), action, reason })
  }

  counts (): Record<ReportAction, number> {
    const counts: Record<ReportAction, number> = { X: 0, Z: 0, D: 0, U: 0, C: 0, K: 0, A: 0 }
    for (const e of this.entries) counts[e.action]++
    return counts
  }
}
