/**
 * UIDs the adapter negotiates: transfer syntaxes (PS3.5 §10, Annex A),
 * query/retrieve models (PS3.4 Annex C) and the storage SOP classes
 * (PS3.4 Annex B.5) a hospital node accepts and retrieves.
 */

export const TransferSyntax = {
  ImplicitLittle: '1.2.840.10008.1.2',
  ExplicitLittle: '1.2.840.10008.1.2.1',
  DeflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  ExplicitBig: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  J2kLossless: '1.2.840.10008.1.2.4.90',
  J2k: '1.2.840.10008.1.2.4.91',
  J2kPart2Lossless: '1.2.840.10008.1.2.4.92',
  J2kPart2: '1.2.840.10008.1.2.4.93',
  JpegXlLossless: '1.2.840.10008.1.2.4.110',
  JpegXlJpegRecompression: '1.2.840.10008.1.2.4.111',
  JpegXl: '1.2.840.10008.1.2.4.112',
  HtJ2kLossless: '1.2.840.10008.1.2.4.201',
  HtJ2kLosslessRpcl: '1.2.840.10008.1.2.4.202',
  HtJ2k: '1.2.840.10008.1.2.4.203',
  Rle: '1.2.840.10008.1.2.5'
} as const

/** The three uncompressed transfer syntaxes, in the order we prefer them. */
export const UNCOMPRESSED_SYNTAXES: readonly string[] = [
  TransferSyntax.ExplicitLittle, TransferSyntax.ImplicitLittle, TransferSyntax.ExplicitBig
]

/** Every transfer syntax the node stores as received (bit-stream, never transcoded). */
export const STORABLE_SYNTAXES: ReadonlySet<string> = new Set(Object.values(TransferSyntax))

/** Encapsulated (compressed) syntaxes: pixel data is a sequence of fragments (PS3.5 §A.4). */
export function isEncapsulated (ts: string): boolean {
  return STORABLE_SYNTAXES.has(ts) && !UNCOMPRESSED_SYNTAXES.includes(ts) && ts !== TransferSyntax.DeflatedExplicitLittle
}

export function isJpeg2000 (ts: string): boolean {
  return ts === TransferSyntax.J2kLossless || ts === TransferSyntax.J2k ||
    ts === TransferSyntax.J2kPart2Lossless || ts === TransferSyntax.J2kPart2 ||
    ts === TransferSyntax.HtJ2kLossless || ts === TransferSyntax.HtJ2kLosslessRpcl || ts === TransferSyntax.HtJ2k
}

export const SopClass = {
  Verification: '1.2.840.10008.1.1',
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  PatientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootGet: '1.2.840.10008.5.1.4.1.2.2.3'
} as const

export const FIND_MODELS: readonly string[] = [SopClass.StudyRootFind, SopClass.PatientRootFind]
export const MOVE_MODELS: readonly string[] = [SopClass.StudyRootMove, SopClass.PatientRootMove]
export const GET_MODELS: readonly string[] = [SopClass.StudyRootGet, SopClass.PatientRootGet]

/**
 * Storage SOP classes (PS3.4 Table B.5-1) a node accepts. Images first: the
 * SCU proposes the first ones with every compressed syntax as well, within
 * the 128 presentation contexts one association may carry (PS3.8 §9.3.2.2).
 */
export const STORAGE_SOP_CLASSES: readonly string[] = [
  '1.2.840.10008.5.1.4.1.1.2', // CT Image
  '1.2.840.10008.5.1.4.1.1.4', // MR Image
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT Image
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR Image
  '1.2.840.10008.5.1.4.1.1.128', // PET Image
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.1', // Computed Radiography Image
  '1.2.840.10008.5.1.4.1.1.1.1', // Digital X-Ray Image - For Presentation
  '1.2.840.10008.5.1.4.1.1.1.1.1', // Digital X-Ray Image - For Processing
  '1.2.840.10008.5.1.4.1.1.1.2', // Digital Mammography X-Ray Image - For Presentation
  '1.2.840.10008.5.1.4.1.1.1.2.1', // Digital Mammography X-Ray Image - For Processing
  '1.2.840.10008.5.1.4.1.1.1.3', // Digital Intra-Oral X-Ray Image - For Presentation
  '1.2.840.10008.5.1.4.1.1.12.1', // X-Ray Angiographic Image
  '1.2.840.10008.5.1.4.1.1.12.2', // X-Ray Radiofluoroscopic Image
  '1.2.840.10008.5.1.4.1.1.12.1.1', // Enhanced XA Image
  '1.2.840.10008.5.1.4.1.1.20', // Nuclear Medicine Image
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound Image
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame Image
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET Image
  '1.2.840.10008.5.1.4.1.1.2.2', // Legacy Converted Enhanced CT Image
  '1.2.840.10008.5.1.4.1.1.4.4', // Legacy Converted Enhanced MR Image
  '1.2.840.10008.5.1.4.1.1.128.1', // Legacy Converted Enhanced PET Image
  '1.2.840.10008.5.1.4.1.1.13.1.3', // Breast Tomosynthesis Image
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color Secondary Capture
  '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic Image
  '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.481.8', // RT Ion Plan
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial Registration
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic Text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.88.67', // X-Ray Radiation Dose SR
  '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
  '1.2.840.10008.5.1.4.1.1.9.1.1', // 12-lead ECG Waveform
  '1.2.840.10008.5.1.4.1.1.9.1.2', // General ECG Waveform
  '1.2.840.10008.5.1.4.1.1.77.1.5.1', // Ophthalmic Photography 8 Bit Image
  '1.2.840.10008.5.1.4.1.1.77.1.6' // VL Whole Slide Microscopy Image
]

/** Storage classes the SCU also proposes with each compressed syntax (bit-stream retrieval). */
export const COMPRESSED_RETRIEVE_CLASSES: readonly string[] = STORAGE_SOP_CLASSES.slice(0, 6)

/** Compressed syntaxes proposed for `COMPRESSED_RETRIEVE_CLASSES`, one context each. */
export const COMPRESSED_RETRIEVE_SYNTAXES: readonly string[] = [
  TransferSyntax.JpegLosslessSv1, TransferSyntax.J2kLossless, TransferSyntax.JpegLsLossless,
  TransferSyntax.Rle, TransferSyntax.JpegBaseline, TransferSyntax.J2k
]

/** UID syntax (PS3.5 §9.1): digits and dots, components without leading zeros tolerated, 64 chars at most. */
export function isValidUid (uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(uid)
}
