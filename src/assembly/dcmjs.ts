/**
 * The part of dcmjs 0.50 that assembly reads with, typed here (the package
 * ships no declarations) and loaded with `createRequire`, so no ambient
 * module declaration is needed.
 */
import { createRequire } from 'node:module'

export type NaturalDataset = Record<string, unknown>
export interface DenaturalDataset { [tag: string]: { vr: string, Value?: unknown[] } }

export interface Dcmjs {
  data: {
    DicomMetaDictionary: { naturalizeDataset: (ds: DenaturalDataset) => NaturalDataset }
    DicomMessage: {
      readFile: (buffer: ArrayBuffer, options?: {
        ignoreErrors?: boolean
        untilTag?: string | null
        includeUntilTagValue?: boolean
        noCopy?: boolean
      }) => { meta: DenaturalDataset, dict: DenaturalDataset }
    }
  }
  log: { setLevel: (level: string) => void, getLogger: (name: string) => { setLevel: (level: string) => void } }
}

const require = createRequire(import.meta.url)
export const dcmjs = require('dcmjs') as Dcmjs
// dcmjs logs through loglevel to the console; library code stays silent.
dcmjs.log.setLevel('error')
// Its VR validation logs at error level for recoverable cases (e.g. PixelData
// in Implicit VR read as OW): not errors for us.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent')
