/**
 * De-identification of DICOM objects before they leave a hospital: the PS3.15 Annex E Basic
 * Application Level Confidentiality Profile, applied by tag from Table E.1-1 (`table/`) at every
 * depth; private elements removed; UIDs replaced by a keyed HMAC under the site's secret (the
 * same source UID always gives the same new UID at that site); PatientIdentityRemoved and
 * DeidentificationMethod(CodeSequence) set; options Retain Longitudinal Temporal Information
 * (full, or dates shifted per patient) and Retain Device Identity; objects that may carry
 * burned-in text refused unless a pixel-cleaning rule applies. Each call returns a report of what
 * was done, by tag and action only.
 *
 * ```ts
 * import { randomBytes } from 'node:crypto'
 * import { readFileSync, writeFileSync } from 'node:fs'
 * import { createDeidentifier } from './src/privacy/deid/index.js'
 *
 * const deid = createDeidentifier({ secret: randomBytes(32), dates: 'modified' })
 * const { bytes, report } = deid.deidentify(readFileSync('ct-slice.dcm'))
 * writeFileSync('ct-slice.deid.dcm', bytes)
 * console.log(report.counts) // { X: 41, Z: 3, D: 2, U: 5, C: 4, K: 0, A: 4 }
 * ```
 */
export { createDeidentifier, deidentify } from './deidentify.js'
export type { DeidResult, Deidentifier } from './deidentify.js'
export type { DateHandling, DeidOptions } from './options.js'
export type { DeidReport, ReportAction, ReportEntry, ReportReason } from './report.js'
export { blankRectangles, burnedInRisk } from './burned-in.js'
export type { BlankRectanglesInit, ImageDescription, PixelCleaningRule, Rectangle } from './burned-in.js'
export { dateShiftDays, mapUid, UID_PATTERN } from './uid.js'
export { shiftDate, shiftDateTime } from './dates.js'
export { parsePixelRules } from './rules.js'
export type { PixelRuleSpec } from './rules.js'
export { silenceParserWarnings } from './dcmjs.js'
export { profileRow, TABLE_E1_1 } from './table/index.js'
export type { ProfileRow } from './table/index.js'
export {
  DeidBurnedInTextError, DeidFormatError, DeidInputTooLargeError, DeidOutputError, DeidSecretError,
  DeidUnsupportedObjectError, DEID_INPUT_ERROR_NAMES
} from './errors.js'
export type { DeidFormatProblem } from './errors.js'
export { DEFAULT_MAX_INPUT_BYTES, MIN_SECRET_BYTES, SECRET_BYTES } from './constants.js'
