/**
 * The JSON sidecar: descriptive acquisition metadata and geometry only, with
 * BIDS/dcm2niix key names and units (times in seconds). No patient, study
 * date, UID, institution, station or device-serial attribute is ever copied
 * (PS3.15 Annex E table E.1-1 lists those for removal). SeriesDescription and
 * ProtocolName are free text that Annex E cleans rather than keeps: they are
 * included unless `descriptions: false`, and whatever leaves the hospital
 * still goes through de-identification.
 */
import type { NaturalDataset } from './dcmjs.js'
import type { StackGeometry, Warning } from './geometry.js'
import type { PixelFormat } from './header.js'
import type { ScalingPlan } from './scaling.js'

type Item = Record<string, unknown>
const first = (v: unknown): unknown => Array.isArray(v) ? v[0] : v
const seqItem = (v: unknown): Item | undefined => {
  const x = first(v)
  return x !== null && typeof x === 'object' ? x as Item : undefined
}

/** Keys copied as they are (DICOM keyword → sidecar key). */
const TEXT: Array<[string, string]> = [
  ['Modality', 'Modality'],
  ['Manufacturer', 'Manufacturer'],
  ['ManufacturerModelName', 'ManufacturersModelName'],
  ['BodyPartExamined', 'BodyPartExamined'],
  ['PatientPosition', 'PatientPosition'],
  ['MRAcquisitionType', 'MRAcquisitionType'],
  ['ScanningSequence', 'ScanningSequence'],
  ['SequenceVariant', 'SequenceVariant'],
  ['ScanOptions', 'ScanOptions'],
  ['ImagedNucleus', 'ImagedNucleus'],
  ['ConvolutionKernel', 'ConvolutionKernel'],
  ['ImageType', 'ImageType'],
  ['SOPClassUID', 'SOPClassUID']
]
const NUMBERS: Array<[string, string]> = [
  ['MagneticFieldStrength', 'MagneticFieldStrength'],
  ['ImagingFrequency', 'ImagingFrequency'],
  ['FlipAngle', 'FlipAngle'],
  ['EchoTrainLength', 'EchoTrainLength'],
  ['PixelBandwidth', 'PixelBandwidth'],
  ['KVP', 'KVP'],
  ['XRayTubeCurrent', 'XRayTubeCurrent'],
  ['ExposureTime', 'ExposureTime'],
  ['ReconstructionDiameter', 'ReconstructionDiameter'],
  ['SliceThickness', 'SliceThickness'],
  ['SpacingBetweenSlices', 'SpacingBetweenSlices']
]
/** Milliseconds in DICOM, seconds in the sidecar (BIDS). */
const MILLISECONDS: Array<[string, string]> = [
  ['EchoTime', 'EchoTime'],
  ['RepetitionTime', 'RepetitionTime'],
  ['InversionTime', 'InversionTime']
]
/** Where Enhanced MR/CT keep them (shared functional groups, PS3.3 C.8.13.5 / C.8.15.3). */
const GROUPED: Array<[string, string]> = [
  ['MRTimingAndRelatedParametersSequence', 'RepetitionTime'],
  ['MRTimingAndRelatedParametersSequence', 'FlipAngle'],
  ['MREchoSequence', 'EffectiveEchoTime'],
  ['CTXRayDetailsSequence', 'KVP'],
  ['CTReconstructionSequence', 'ConvolutionKernel']
]

/** Sequences the sidecar reads inside (a header reader must keep their items). */
export const SIDECAR_SEQUENCES: readonly string[] = [...new Set(GROUPED.map(([sequence]) => sequence))]
/** Top-level keywords the sidecar reads. */
export const SIDECAR_KEYWORDS: readonly string[] = [
  ...[...TEXT, ...NUMBERS, ...MILLISECONDS].map(([k]) => k), 'EffectiveEchoTime', 'SeriesDescription', 'ProtocolName'
]

function value (ds: NaturalDataset, key: string): unknown {
  const v = ds[key]
  if (v !== undefined) return v
  const shared = seqItem(ds.SharedFunctionalGroupsSequence)
  const group = GROUPED.find(([, k]) => k === key)?.[0]
  if (group !== undefined) return seqItem(shared?.[group])?.[key]
  return undefined
}

export interface SidecarInput {
  ds: NaturalDataset
  transferSyntaxUID: string
  format: PixelFormat
  geometry: StackGeometry
  scaling: ScalingPlan
  dims: [number, number, number]
  affineRas: number[]
  rescale: { slope: number, intercept: number } | 'per-frame'
  warnings: Warning[]
  descriptions: boolean
}

export function buildSidecar (s: SidecarInput): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, name] of TEXT) {
    const v = value(s.ds, k)
    if (typeof v === 'string' && v.trim() !== '') out[name] = v.trim()
    else if (Array.isArray(v) && v.every(x => typeof x === 'string')) out[name] = v
  }
  if (s.descriptions) {
    for (const k of ['SeriesDescription', 'ProtocolName']) {
      const v = first(s.ds[k])
      if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim()
    }
  }
  for (const [k, name] of NUMBERS) {
    const v = first(value(s.ds, k))
    if (typeof v === 'number' && Number.isFinite(v)) out[name] = v
  }
  for (const [k, name] of MILLISECONDS) {
    const v = first(value(s.ds, k === 'EchoTime' && s.ds.EchoTime === undefined ? 'EffectiveEchoTime' : k))
    if (typeof v === 'number' && Number.isFinite(v)) out[name] = v / 1000
  }
  const g = s.geometry
  return {
    ...out,
    TransferSyntaxUID: s.transferSyntaxUID,
    PhotometricInterpretation: s.format.photometric,
    BitsStored: s.format.bitsStored,
    Rows: s.format.rows,
    Columns: s.format.columns,
    Slices: s.dims[2],
    PixelSpacing: g.pixelSpacing,
    SliceStep: g.step,
    ImageOrientationPatientDICOM: [...g.rowCosine, ...g.columnCosine],
    AffineRAS: [s.affineRas.slice(0, 4), s.affineRas.slice(4, 8), s.affineRas.slice(8, 12)],
    Rescale: s.rescale,
    DataType: s.scaling.type,
    RescaleApplied: s.scaling.applyRescale,
    SclSlope: s.scaling.sclSlope,
    SclInter: s.scaling.sclInter,
    Warnings: s.warnings.map(w => w.message),
    ConversionSoftware: 'dm2 assemble'
  }
}
