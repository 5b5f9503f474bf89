/**
 * The slice of the dcmjs 0.50 API de-identification uses, typed here because the package ships no
 * declarations. Loaded through `createRequire` so no ambient `declare module 'dcmjs'` is needed.
 * Works on the raw, tag-keyed ("denaturalized") data set: `{ GGGGEEEE: { vr, Value } }`.
 */
import { createRequire } from 'node:module'

/** One data element as dcmjs reads it. `_rawValue` is the value before dcmjs formatting. */
export interface RawElement {
  vr: string
  Value?: unknown[]
  _rawValue?: unknown
  InlineBinary?: string
}

export type RawDataset = Record<string, RawElement>

interface DicomDictInstance {
  meta: RawDataset
  dict: RawDataset
  write: (options?: { allowInvalidVRLength?: boolean }) => ArrayBuffer
}

interface Dcmjs {
  data: {
    DicomDict: new (meta: RawDataset) => DicomDictInstance
    DicomMessage: {
      readFile: (buffer: ArrayBuffer, options?: {
        ignoreErrors?: boolean
        untilTag?: string | null
        includeUntilTagValue?: boolean
        noCopy?: boolean
      }) => DicomDictInstance
    }
    DicomMetaDictionary: { dictionary: Record<string, { vr?: string } | undefined> }
  }
}

const require = createRequire(import.meta.url)
export const dcmjs = require('dcmjs') as Dcmjs

/** Whether the PS3.6 dictionary (as dcmjs has it) gives the VR SQ to a `GGGGEEEE` tag. */
export function isSequenceTag (tag: string): boolean {
  return dcmjs.data.DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.vr === 'SQ'
}

/** Read a Part 10 file up to, not including, the top-level Pixel Data (copied verbatim elsewhere). */
export function readUntilPixels (buffer: ArrayBuffer): { meta: RawDataset, dict: RawDataset } {
  const parsed = dcmjs.data.DicomMessage.readFile(buffer, { ignoreErrors: false, untilTag: '7FE00010', includeUntilTagValue: false })
  // dcmjs leaves a stub for the tag it stopped at.
  delete parsed.dict['7FE00010']
  return { meta: parsed.meta, dict: parsed.dict }
}

/** Encode meta + data set as a Part 10 file in the meta's transfer syntax. */
export function writePart10 (meta: RawDataset, dict: RawDataset): Uint8Array {
  const out = new dcmjs.data.DicomDict(meta)
  out.dict = dict
  // Legacy over-long values that the profile keeps (e.g. ACR-NEMA "1995.06.26" dates under the
  // Full Dates option) are written as found rather than refusing the object.
  return new Uint8Array(out.write({ allowInvalidVRLength: true }))
}

/**
 * dcmjs logs parser warnings (e.g. "Invalid vr type ox - using OW") to the console. A command
 * line tool calls this once; library code stays out of global logger settings.
 */
export function silenceParserWarnings (): void {
  (dcmjs as unknown as { log?: { setLevel?: (level: string) => void } }).log?.setLevel?.('error')
}
