/** Test helpers: read a generated file back with dcmjs, run DCMTK tools. */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
interface DcmjsData {
  DicomMessage: { readFile: (b: ArrayBuffer) => { meta: Record<string, unknown>, dict: Record<string, unknown> } }
  DicomMetaDictionary: { naturalizeDataset: (d: Record<string, unknown>) => Record<string, unknown> }
}
const dcmjs = require('dcmjs') as { data: DcmjsData }

export function readNatural (bytes: Uint8Array): { meta: Record<string, unknown>, ds: Record<string, unknown> } {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const file = dcmjs.data.DicomMessage.readFile(buf)
  return {
    meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.meta),
    ds: dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict)
  }
}

/** Runs a DCMTK (or other) tool; throws with its stderr when it is missing or fails. */
export function run (tool: string, args: string[]): string {
  const res = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (res.error !== undefined) throw new Error(`${tool} could not run (is it installed?): ${res.error.message}`)
  if (res.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${String(res.status)}: ${res.stderr}`)
  return res.stdout + res.stderr
}
