/**
 * The slice of the dcmjs 0.50 API the generator uses, typed here because the
 * package ships no declarations. Loaded through `createRequire` so no ambient
 * `declare module 'dcmjs'` is needed (another area may add one).
 */
import { createRequire } from 'node:module'

export type NaturalDataset = Record<string, unknown>
export interface DenaturalDataset { [tag: string]: { vr: string, Value?: unknown[] } }

interface DicomDictInstance {
  meta: DenaturalDataset
  dict: DenaturalDataset
  write: (options?: { allowInvalidVRLength?: boolean, fragmentMultiframe?: boolean }) => ArrayBuffer
}

export interface Dcmjs {
  data: {
    DicomDict: new (meta: DenaturalDataset) => DicomDictInstance
    DicomMetaDictionary: {
      denaturalizeDataset: (ds: NaturalDataset) => DenaturalDataset
      naturalizeDataset: (ds: DenaturalDataset) => NaturalDataset
    }
    DicomMessage: {
      readFile: (buffer: ArrayBuffer, options?: { ignoreErrors?: boolean, untilTag?: string | null, includeUntilTagValue?: boolean }) => { meta: DenaturalDataset, dict: DenaturalDataset }
    }
  }
  log: { setLevel: (level: string) => void, getLogger: (name: string) => { setLevel: (level: string) => void } }
}

const require = createRequire(import.meta.url)
export const dcmjs = require('dcmjs') as Dcmjs
// dcmjs logs through loglevel to the console (e.g. "Truncating value"); a
// library must stay silent, errors still surface as exceptions.
dcmjs.log.setLevel('error')
// Its VR validation logs at error level for recoverable cases (e.g. PixelData
// in Implicit VR read as OW): not errors for us.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent')
