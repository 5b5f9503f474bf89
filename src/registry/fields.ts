/**
 * The metadata split at ingest (DESIGN.md "Data model"):
 *
 * - identifying: every attribute PS3.15 Annex E Table E.1-1 (Basic
 *   Application Level Confidentiality Profile) marks for removal, replacement
 *   or cleaning — stays in the trusted site's registry;
 * - descriptive: an explicit allow-list (modality, body part, cleaned series
 *   description, acquisition parameters, geometry, pixel module) — may be
 *   replicated and queried federation-wide.
 *
 * An attribute in neither list is not stored (it stays in the file). The
 * descriptive side is an allow-list on purpose: a new or private attribute
 * can never leak into it by omission.
 *
 * `IDENTIFYING` is every attribute of Table E.1-1 (src/privacy/deid/table,
 * whatever its action: X, Z, D, U or a combination), plus a few this node
 * treats as identifying besides (LOCAL_IDENTIFYING).
 */
import { keywordOf } from '../dicom/part10/dictionary.js'
import { TABLE_E1_1 } from '../privacy/deid/table/index.js'
import { MAX_DESCRIPTION_LENGTH, MAX_STORED_VALUE_CHARS } from './constants.js'

export type AttrValue = string | number | Array<string | number>
export type AttrMap = Record<string, AttrValue>

/**
 * Identifying beyond Table E.1-1, or kept by keyword in case a table row has
 * no dictionary keyword here: the attributes of image objects this node has
 * always kept out of descriptive metadata.
 */
const LOCAL_IDENTIFYING = [
  // Patient
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'TypeOfPatientID', 'OtherPatientIDs', 'OtherPatientNames',
  'PatientBirthName', 'PatientMotherBirthName', 'PatientBirthDate', 'PatientBirthTime', 'PatientSex', 'PatientAge',
  'PatientSize', 'PatientWeight', 'PatientAddress', 'PatientTelephoneNumbers', 'MilitaryRank', 'BranchOfService',
  'MedicalRecordLocator', 'MedicalAlerts', 'Allergies', 'CountryOfResidence', 'RegionOfResidence', 'EthnicGroup',
  'Occupation', 'SmokingStatus', 'AdditionalPatientHistory', 'PregnancyStatus', 'LastMenstrualDate',
  'PatientReligiousPreference', 'PatientComments', 'PatientState', 'ResponsiblePerson', 'ResponsibleOrganization',
  'PatientSexNeutered', 'SpecialNeeds',
  // Study and request
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'StudyID', 'AccessionNumber', 'StudyDescription',
  'ReferringPhysicianName', 'ReferringPhysicianAddress', 'ReferringPhysicianTelephoneNumbers', 'ConsultingPhysicianName',
  'PhysiciansOfRecord', 'NameOfPhysiciansReadingStudy', 'RequestingPhysician', 'RequestingService',
  'AdmittingDiagnosesDescription', 'AdmissionID', 'ReasonForStudy', 'RequestedProcedureDescription',
  'RequestedProcedureID', 'ReasonForTheRequestedProcedure', 'RequestedContrastAgent', 'StudyComments',
  'InterpretationAuthor', 'CurrentPatientLocation', 'ServiceEpisodeID', 'ServiceEpisodeDescription',
  // Series, equipment, procedure step
  'SeriesInstanceUID', 'SeriesDate', 'SeriesTime', 'SeriesDescription', 'ProtocolName', 'OperatorsName',
  'PerformingPhysicianName', 'PerformedProcedureStepID', 'PerformedProcedureStepStartDate',
  'PerformedProcedureStepStartTime', 'PerformedProcedureStepEndDate', 'PerformedProcedureStepEndTime',
  'PerformedProcedureStepDescription', 'PerformedLocation', 'PerformedStationName', 'PerformedStationAETitle',
  'ScheduledProcedureStepID', 'ScheduledProcedureStepDescription', 'InstitutionName', 'InstitutionAddress',
  'InstitutionalDepartmentName', 'StationName', 'DeviceSerialNumber', 'DeviceUID', 'PlateID', 'DetectorID',
  'GantryID', 'CassetteID', 'SoftwareVersions', 'DateOfLastCalibration', 'TimeOfLastCalibration',
  'FrameOfReferenceUID', 'SynchronizationFrameOfReferenceUID', 'TimezoneOffsetFromUTC',
  // Instance
  'SOPInstanceUID', 'InstanceCreationDate', 'InstanceCreationTime', 'InstanceCreatorUID', 'AcquisitionDate',
  'AcquisitionTime', 'AcquisitionDateTime', 'ContentDate', 'ContentTime', 'ImageComments', 'AcquisitionComments',
  'DerivationDescription', 'ContrastBolusAgent', 'ContrastBolusStartTime', 'ContrastBolusStopTime',
  'DateOfSecondaryCapture', 'TimeOfSecondaryCapture', 'IrradiationEventUID', 'ConcatenationUID',
  'StorageMediaFileSetUID', 'DimensionOrganizationUID', 'OverlayDate', 'OverlayTime', 'CurveDate', 'CurveTime',
  'TextComments', 'TextString', 'OverlayComments', 'FrameComments', 'DigitalSignatureUID', 'UID'
]

/** Keywords of every Table E.1-1 row with a concrete tag (repeating groups and the private row have none). */
function tableKeywords (): string[] {
  const out: string[] = []
  for (const row of TABLE_E1_1) {
    if (!/^[0-9A-F]{8}$/.test(row.tag)) continue
    const keyword = keywordOf(Number.parseInt(row.tag, 16))
    if (keyword !== undefined) out.push(keyword)
  }
  return out
}

/** PS3.15 Annex E Table E.1-1 attributes (keywords), plus LOCAL_IDENTIFYING. */
export const IDENTIFYING: ReadonlySet<string> = new Set([...tableKeywords(), ...LOCAL_IDENTIFYING])

/** Series-level descriptive attributes (allow-list). `SeriesDescription` here is the cleaned one. */
export const DESCRIPTIVE: ReadonlySet<string> = new Set([
  'Modality', 'BodyPartExamined', 'SeriesDescription', 'SOPClassUID', 'TransferSyntaxUID', 'ImageType',
  'Laterality', 'ImageLaterality', 'ViewPosition', 'PatientPosition', 'Manufacturer', 'ManufacturerModelName',
  'Rows', 'Columns', 'NumberOfFrames', 'PixelSpacing', 'SliceThickness', 'SpacingBetweenSlices',
  'ImageOrientationPatient', 'SamplesPerPixel', 'PhotometricInterpretation', 'BitsAllocated', 'BitsStored',
  'HighBit', 'PixelRepresentation', 'RescaleSlope', 'RescaleIntercept', 'RescaleType', 'WindowCenter', 'WindowWidth',
  // CT acquisition
  'KVP', 'XRayTubeCurrent', 'ExposureTime', 'Exposure', 'ConvolutionKernel', 'FilterType', 'GeneratorPower',
  'FocalSpots', 'DataCollectionDiameter', 'ReconstructionDiameter', 'SpiralPitchFactor', 'TableSpeed',
  'RevolutionTime', 'SingleCollimationWidth', 'TotalCollimationWidth', 'ScanOptions', 'CTDIvol',
  // MR acquisition
  'RepetitionTime', 'EchoTime', 'InversionTime', 'FlipAngle', 'EchoTrainLength', 'MagneticFieldStrength',
  'ImagingFrequency', 'ImagedNucleus', 'ScanningSequence', 'SequenceVariant', 'MRAcquisitionType',
  'NumberOfAverages', 'PixelBandwidth', 'AcquisitionMatrix', 'InPlanePhaseEncodingDirection', 'PercentSampling',
  'PercentPhaseFieldOfView'
])

/** Per-instance attributes kept with each instance record (positions, order, local identity). */
export const INSTANCE_FIELDS: ReadonlySet<string> = new Set([
  'SOPClassUID', 'InstanceNumber', 'ImagePositionPatient', 'ImageOrientationPatient', 'SliceLocation',
  'AcquisitionNumber', 'Rows', 'Columns', 'NumberOfFrames', 'TransferSyntaxUID'
])

/** Patient/study/series attributes answered at each C-FIND level (PS3.4 C.6.1.1, C.6.2.1). */
export const FIND_PATIENT_KEYS = ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientBirthTime', 'PatientSex', 'OtherPatientIDs', 'OtherPatientNames', 'EthnicGroup', 'PatientComments']

/**
 * A series description without what usually identifies someone: tokens with
 * digits runs of 4 or more (dates, ids), person-name separators (`^`), e-mail
 * and other punctuation; PS3.15 E.1-1 says "X" for it, the issue keeps a
 * cleaned form as descriptive.
 */
export function cleanSeriesDescription (raw: string): string {
  const kept = raw
    .split(/\s+/)
    .filter(t => t !== '' && !t.includes('^') && !t.includes('@') && !/\d{4,}/.test(t) && !/\d{1,2}[./-]\d{1,2}[./-]\d{2,4}/.test(t))
    .map(t => t.replace(/[^\p{L}\p{N}.,+\-_/()[\]:]/gu, ''))
    .filter(t => t !== '')
    .join(' ')
  return kept.slice(0, MAX_DESCRIPTION_LENGTH).trim()
}

function bounded (v: AttrValue): AttrValue {
  if (typeof v === 'string') return v.slice(0, MAX_STORED_VALUE_CHARS)
  if (Array.isArray(v)) return v.slice(0, 64).map(x => typeof x === 'string' ? x.slice(0, MAX_STORED_VALUE_CHARS) : x)
  return v
}

export interface SplitAttributes {
  identifying: AttrMap
  descriptive: AttrMap
  instance: AttrMap
}

/** Splits an instance's attributes; an attribute in neither list is dropped. */
export function splitAttributes (attrs: Readonly<AttrMap>): SplitAttributes {
  const out: SplitAttributes = { identifying: {}, descriptive: {}, instance: {} }
  for (const [k, v] of Object.entries(attrs)) {
    if (IDENTIFYING.has(k)) out.identifying[k] = bounded(v)
    if (INSTANCE_FIELDS.has(k)) out.instance[k] = bounded(v)
    if (k === 'SeriesDescription') {
      const cleaned = cleanSeriesDescription(String(v))
      if (cleaned !== '') out.descriptive[k] = cleaned
    } else if (DESCRIPTIVE.has(k) && !IDENTIFYING.has(k)) {
      out.descriptive[k] = bounded(v)
    }
  }
  return out
}
