/** A small hand-built CT object exercising every kind of element the profile must handle. */
import { dcmjs, writePart10 } from '../../../src/privacy/deid/dcmjs.js'
import type { RawDataset } from '../../../src/privacy/deid/dcmjs.js'

export const ORIGINAL = {
  sopInstanceUid: '1.2.826.0.1.3680043.2.1125.1.1',
  studyUid: '1.2.826.0.1.3680043.2.1125.2.1',
  seriesUid: '1.2.826.0.1.3680043.2.1125.3.1',
  referencedUid: '1.2.826.0.1.3680043.2.1125.1.0',
  patientName: 'Doe^John',
  patientId: 'PID-4711',
  text: 'John Doe has a fracture'
}

const ab = (bytes: number[]): ArrayBuffer => new Uint8Array(bytes).buffer

export interface SyntheticOptions {
  transferSyntaxUid?: string
  burnedInAnnotation?: string
  patientId?: string
  studyDate?: string
}

/** Raw data set of the object (dcmjs tag-keyed form). */
export function syntheticDataset (o: SyntheticOptions = {}): RawDataset {
  const ds: RawDataset = {
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00080018': { vr: 'UI', Value: [ORIGINAL.sopInstanceUid] },
    '00080020': { vr: 'DA', Value: [o.studyDate ?? '20200115'] },
    '00080030': { vr: 'TM', Value: ['101010'] },
    '0008002A': { vr: 'DT', Value: ['20200115101010.123+0100'] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00080080': { vr: 'LO', Value: ['General Hospital'] },
    '00081010': { vr: 'SH', Value: ['CT-ROOM-2'] },
    '00081140': {
      vr: 'SQ',
      Value: [{
        '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
        '00081155': { vr: 'UI', Value: [ORIGINAL.referencedUid] },
        '00110010': { vr: 'LO', Value: ['ACME'] },
        '00111001': { vr: 'LO', Value: ['hidden in an item'] }
      }]
    },
    '00090010': { vr: 'LO', Value: ['ACME'] },
    '00091001': { vr: 'LO', Value: ['private top level'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: ORIGINAL.patientName }] },
    '00100020': { vr: 'LO', Value: [o.patientId ?? ORIGINAL.patientId] },
    '00100030': { vr: 'DA', Value: ['19700101'] },
    '00180010': { vr: 'LO', Value: ['Iodine'] },
    '00181000': { vr: 'LO', Value: ['SN-0042'] },
    '0020000D': { vr: 'UI', Value: [ORIGINAL.studyUid] },
    '0020000E': { vr: 'UI', Value: [ORIGINAL.seriesUid] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [4] },
    '00280011': { vr: 'US', Value: [4] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [12] },
    '00280102': { vr: 'US', Value: [11] },
    '00280103': { vr: 'US', Value: [0] },
    '00400275': { vr: 'SQ', Value: [{ '00401001': { vr: 'SH', Value: ['REQ-1'] } }] },
    '0040A730': {
      vr: 'SQ',
      Value: [{
        '0040A040': { vr: 'CS', Value: ['TEXT'] },
        '0040A043': { vr: 'SQ', Value: [{ '00080104': { vr: 'LO', Value: ['Finding'] } }] },
        '0040A123': { vr: 'PN', Value: [{ Alphabetic: 'Smith^Jane' }] },
        '0040A160': { vr: 'UT', Value: [ORIGINAL.text] }
      }]
    },
    50003000: { vr: 'OW', Value: [ab([1, 2, 3, 4])] },
    60000010: { vr: 'US', Value: [4] },
    60000011: { vr: 'US', Value: [4] },
    60003000: { vr: 'OW', Value: [ab([0xff, 0xff])] },
    60004000: { vr: 'LT', Value: ['overlay note'] },
    '7FE00010': { vr: 'OW', Value: [new Uint16Array(16).map((_, i) => 100 + i).buffer] },
    FFFCFFFC: { vr: 'OB', Value: [ab([0, 0, 0, 0])] }
  }
  if (o.burnedInAnnotation !== undefined) ds['00280301'] = { vr: 'CS', Value: [o.burnedInAnnotation] }
  return ds
}

/** The object as a PS3.10 file. */
export function syntheticFile (o: SyntheticOptions = {}): Uint8Array {
  const meta: RawDataset = {
    '00020001': { vr: 'OB', Value: [ab([0, 1])] },
    '00020002': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00020003': { vr: 'UI', Value: [ORIGINAL.sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [o.transferSyntaxUid ?? '1.2.840.10008.1.2.1'] },
    '00020012': { vr: 'UI', Value: ['1.2.3.4'] },
    '00020016': { vr: 'AE', Value: ['HOSPITAL_CT'] }
  }
  return writePart10(meta, syntheticDataset(o))
}

/** Read a whole file back with dcmjs (pixel data included). */
export function readAll (bytes: Uint8Array): { meta: RawDataset, dict: RawDataset } {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return dcmjs.data.DicomMessage.readFile(copy.buffer)
}
