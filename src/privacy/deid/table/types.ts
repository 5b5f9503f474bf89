/** Shape of one row of PS3.15 Table E.1-1 (see `e1-1.ts`). */

/** Basic Profile actions as the table writes them (PS3.15 E.1.1, Table E.1-1 legend). */
export type BasicProfileAction = 'X' | 'Z' | 'D' | 'U' | 'Z/D' | 'X/Z' | 'X/D' | 'X/Z/D' | 'X/Z/U*'

/** Option columns of Table E.1-1, by short key. */
export type ProfileOption =
  | 'safePrivate' // Retain Safe Private Option
  | 'uids' // Retain UIDs Option
  | 'device' // Retain Device Identity Option
  | 'institution' // Retain Institution Identity Option
  | 'patientChars' // Retain Patient Characteristics Option
  | 'longFull' // Retain Longitudinal Temporal Information with Full Dates Option
  | 'longModified' // Retain Longitudinal Temporal Information with Modified Dates Option
  | 'descriptors' // Clean Descriptors Option
  | 'structured' // Clean Structured Content Option
  | 'graphics' // Clean Graphics Option

export interface ProfileRow {
  /** `GGGGEEEE` in upper-case hex; `x` for a repeating-group digit; `private` for odd groups. */
  readonly tag: string
  readonly name: string
  /** VR from PS3.6 (`OB|OW` when several); empty when PS3.6 gives none (command or retired groups). */
  readonly vr: string
  readonly basic: BasicProfileAction
  /** "In Std. Comp. IOD" column. */
  readonly std: boolean
  readonly options: Readonly<Partial<Record<ProfileOption, 'K' | 'C'>>>
}
