/**
 * dcmjs "naturalized" datasets for the generated objects: the Patient,
 * General Study, General Series, Frame of Reference, General Equipment,
 * General Image, Image Plane, Image Pixel and CT/MR Image modules
 * (PS3.3 A.3 CT Image IOD, A.4 MR Image IOD), and for multi-frame the
 * Enhanced CT/MR Image IODs (A.38, A.36) with their functional groups.
 */
import { SOP_CLASS } from './constants.js'
import { formatDS } from './geometry.js'
import type { SliceGeometry } from './geometry.js'
import type { FakeIdentity } from './identity.js'
import type { ResolvedOptions } from './options.js'

export interface SeriesIds {
  studyInstanceUID: string
  seriesInstanceUID: string
  frameOfReferenceUID: string
  seriesNumber: number
  seriesDescription: string
}

type Dataset = Record<string, unknown>

const ds = (v: number): number => Number(formatDS(v))

/** Attributes shared by every object of the series. */
export function commonAttributes (r: ResolvedOptions, id: FakeIdentity, ids: SeriesIds): Dataset {
  const ct = r.modality === 'CT'
  const time = id.studyTime
  const common: Dataset = {
    SpecificCharacterSet: 'ISO_IR 100',
    StudyDate: id.studyDate,
    SeriesDate: id.studyDate,
    AcquisitionDate: id.studyDate,
    ContentDate: id.studyDate,
    StudyTime: time,
    SeriesTime: time,
    AcquisitionTime: time,
    ContentTime: time,
    AccessionNumber: id.accessionNumber,
    Modality: r.modality,
    Manufacturer: 'DM2 Synthetic',
    InstitutionName: id.institutionName,
    InstitutionAddress: id.institutionAddress,
    ReferringPhysicianName: id.referringPhysicianName,
    StationName: id.stationName,
    StudyDescription: ct ? 'CT THORAX ABDOMEN' : 'MR BRAIN',
    SeriesDescription: ids.seriesDescription,
    PerformingPhysicianName: id.performingPhysicianName,
    OperatorsName: id.operatorsName,
    ManufacturerModelName: ct ? 'Phantom CT 64' : 'Phantom MR 1.5T',
    PatientName: id.patientName,
    PatientID: id.patientId,
    PatientBirthDate: id.patientBirthDate,
    PatientSex: id.patientSex,
    PatientAge: id.patientAge,
    PatientWeight: id.patientWeight,
    BodyPartExamined: ct ? 'CHEST' : 'HEAD',
    DeviceSerialNumber: id.deviceSerialNumber,
    SoftwareVersions: 'dm2-synthetic 1',
    ProtocolName: ct ? 'Thorax routine' : 'Brain T1 SE',
    PatientPosition: 'HFS',
    StudyInstanceUID: ids.studyInstanceUID,
    SeriesInstanceUID: ids.seriesInstanceUID,
    StudyID: id.studyId,
    SeriesNumber: ids.seriesNumber,
    AcquisitionNumber: 1,
    FrameOfReferenceUID: ids.frameOfReferenceUID,
    PositionReferenceIndicator: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: r.rows,
    Columns: r.columns,
    BitsAllocated: 16,
    BitsStored: r.bitsStored,
    HighBit: r.bitsStored - 1,
    PixelRepresentation: r.signed ? 1 : 0
  }
  if (ct) {
    Object.assign(common, {
      KVP: 120,
      DataCollectionDiameter: 500,
      ReconstructionDiameter: ds(r.columns * r.pixelSpacing[1]),
      ExposureTime: 500,
      XRayTubeCurrent: 200,
      ConvolutionKernel: 'STANDARD',
      WindowCenter: 40,
      WindowWidth: 400
    })
  } else {
    Object.assign(common, {
      ScanningSequence: 'SE',
      SequenceVariant: 'NONE',
      ScanOptions: '',
      MRAcquisitionType: '2D',
      RepetitionTime: 500,
      EchoTime: 15,
      EchoTrainLength: 1,
      NumberOfAverages: 1,
      ImagingFrequency: 63.87,
      ImagedNucleus: '1H',
      MagneticFieldStrength: 1.5,
      FlipAngle: 90,
      WindowCenter: 500,
      WindowWidth: 1000
    })
  }
  return common
}

/** One single-frame CT/MR Image object (General Image, Image Plane, rescale). */
export function sliceAttributes (r: ResolvedOptions, g: SliceGeometry, k: number, instanceNumber: number, sopInstanceUID: string): Dataset {
  const position = g.positions[k] ?? [0, 0, 0]
  const slice: Dataset = {
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    SOPClassUID: SOP_CLASS[r.modality],
    SOPInstanceUID: sopInstanceUID,
    InstanceNumber: instanceNumber,
    ImagePositionPatient: position,
    ImageOrientationPatient: [...g.row, ...g.column],
    // SliceLocation is informative only (PS3.3 C.7.6.2.1.2); readers must not sort on it.
    SliceLocation: ds(position[0] * g.normal[0] + position[1] * g.normal[1] + position[2] * g.normal[2]),
    PixelSpacing: [...r.pixelSpacing],
    SliceThickness: r.sliceThickness
  }
  if (r.spacingBetweenSlices !== undefined) slice.SpacingBetweenSlices = r.spacingBetweenSlices
  if (r.rescale !== undefined) {
    Object.assign(slice, { RescaleIntercept: r.rescale.intercept, RescaleSlope: r.rescale.slope })
    if (r.modality === 'CT') slice.RescaleType = 'HU'
  }
  return slice
}

/**
 * The Enhanced CT/MR object: plane orientation, pixel measures and pixel
 * value transformation shared; plane position and frame content per frame
 * (PS3.3 C.7.6.16). `frameOrder[f]` is the spatial index of frame f.
 */
export function enhancedAttributes (r: ResolvedOptions, g: SliceGeometry, frameOrder: number[], sopInstanceUID: string): Dataset {
  const ct = r.modality === 'CT'
  const measures: Dataset = { PixelSpacing: [...r.pixelSpacing], SliceThickness: r.sliceThickness }
  if (r.spacingBetweenSlices !== undefined) measures.SpacingBetweenSlices = r.spacingBetweenSlices
  const shared: Dataset = {
    PixelMeasuresSequence: [measures],
    PlaneOrientationSequence: [{ ImageOrientationPatient: [...g.row, ...g.column] }]
  }
  if (r.rescale !== undefined || ct) {
    shared.PixelValueTransformationSequence = [{
      RescaleIntercept: r.rescale?.intercept ?? 0, RescaleSlope: r.rescale?.slope ?? 1, RescaleType: ct ? 'HU' : 'US'
    }]
  }
  const dimensionOrganizationUID = `${sopInstanceUID}.1`
  const perFrame = frameOrder.map(k => ({
    FrameContentSequence: [{ StackID: '1', InStackPositionNumber: k + 1, DimensionIndexValues: [1, k + 1] }],
    PlanePositionSequence: [{ ImagePositionPatient: g.positions[k] ?? [0, 0, 0] }]
  }))
  return {
    ImageType: ['ORIGINAL', 'PRIMARY', 'VOLUME', 'NONE'],
    SOPClassUID: ct ? SOP_CLASS.EnhancedCT : SOP_CLASS.EnhancedMR,
    SOPInstanceUID: sopInstanceUID,
    InstanceNumber: 1,
    NumberOfFrames: frameOrder.length,
    ContentQualification: 'RESEARCH',
    DimensionOrganizationType: '3D',
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUID }],
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimensionOrganizationUID, DimensionIndexPointer: 0x00209056, FunctionalGroupPointer: 0x00209111 },
      { DimensionOrganizationUID: dimensionOrganizationUID, DimensionIndexPointer: 0x00209057, FunctionalGroupPointer: 0x00209111 }
    ],
    SharedFunctionalGroupsSequence: [shared],
    PerFrameFunctionalGroupsSequence: perFrame
  }
}
