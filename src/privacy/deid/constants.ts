/** Defaults of de-identification, in one place (resolved with `??`). */

/** Largest input accepted, also the cap on a Deflated Transfer Syntax data set once inflated. */
export const DEFAULT_MAX_INPUT_BYTES = 512 * 1024 * 1024

/** Deepest sequence nesting accepted; real objects stay well under 10. */
export const DEFAULT_MAX_DEPTH = 32

/** Shortest site secret accepted for the keyed HMAC (bytes): the full strength of HMAC-SHA-256. */
export const MIN_SECRET_BYTES = 32

/** Bytes of a generated site secret. */
export const SECRET_BYTES = 32

/** Root of generated UIDs: ITU-T X.667 / ISO/IEC 9834-8 UUID-derived UIDs, PS3.5 Annex B.2. */
export const UID_ROOT = '2.25'

/** PS3.5 §9.1: a UID is at most 64 characters. */
export const MAX_UID_LENGTH = 64

/**
 * Per-patient date shift for the Modified Dates option (PS3.15 E.3.6): whole days into the past,
 * between these bounds. Whole days keep weekdays-vs-intervals realistic and leave times (TM) valid.
 */
export const DATE_SHIFT_MIN_DAYS = 30
export const DATE_SHIFT_MAX_DAYS = 3650

/** Implementation Class UID written in the File Meta Information (PS3.7 D.3.3.2), a 2.25 UID of this tool. */
export const IMPLEMENTATION_CLASS_UID = '2.25.62753016788962290360648581067750454554' // UUID 2f35ca9a-1264-41d4-acbc-fd342f2f351a
export const IMPLEMENTATION_VERSION_NAME = 'DM2_DEID_1'

/** Text of De-identification Method (0012,0063); names the table edition used. */
export const DEID_METHOD_TEXT = 'DM2 PS3.15 E.1-1 2024b'

/** Dummy values for action D, by VR (PS3.15 E.1.1: "a non-zero length value ... consistent with the VR"). */
export const DUMMY_TEXT = 'ANONYMIZED'
export const DUMMY_DATE = '19000101'
export const DUMMY_TIME = '000000'
export const DUMMY_DATETIME = '19000101000000'
export const DUMMY_AGE = '000D'

/**
 * Objects that may carry burned-in identifying text (PS3.15 E.1.1 and E.3.1 Clean Pixel Data): refused
 * for egress unless a pixel-cleaning rule applies.
 */
export const BURNED_IN_RISK_MODALITIES: readonly string[] = ['US', 'XA', 'RF', 'SC']
export const BURNED_IN_RISK_SOP_CLASS_PREFIXES: readonly string[] = [
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture family (.7, .7.1 – .7.4)
  '1.2.840.10008.5.1.4.1.1.6.', // US Image Storage, Enhanced US Volume
  '1.2.840.10008.5.1.4.1.1.3.1', // US Multi-frame Image Storage
  '1.2.840.10008.5.1.4.1.1.12.' // XA, Enhanced XA, XRF, Enhanced XRF
]

/** Transfer syntaxes (PS3.5 §10, Annex A). */
export const TS_IMPLICIT_LE = '1.2.840.10008.1.2'
export const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1'
export const TS_DEFLATED_LE = '1.2.840.10008.1.2.1.99'
export const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2'

/** Media Storage Directory Storage (DICOMDIR), PS3.10 §8.6: not a composite instance. */
export const MEDIA_STORAGE_DIRECTORY_SOP_CLASS = '1.2.840.10008.1.3.10'

/** CID 7050 De-identification Method codes (PS3.16), coding scheme DCM. */
export const CID_7050 = {
  basic: ['113100', 'Basic Application Confidentiality Profile'],
  cleanPixels: ['113101', 'Clean Pixel Data Option'],
  longFull: ['113106', 'Retain Longitudinal Temporal Information Full Dates Option'],
  longModified: ['113107', 'Retain Longitudinal Temporal Information Modified Dates Option'],
  device: ['113109', 'Retain Device Identity Option']
} as const satisfies Record<string, readonly [string, string]>
