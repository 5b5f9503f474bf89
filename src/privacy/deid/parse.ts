/**
 * The value parse (dcmjs) of a prefiltered object, and its agreement with the framing check: a
 * corrupted length or VR can make dcmjs read garbage as elements (and then try to write gigabytes),
 * so the tags and element count it finds must be the ones the framing check found.
 */
import type { RawDataset } from './dcmjs.js'
import { readUntilPixels } from './dcmjs.js'
import { DeidFormatError } from './errors.js'
import type { Prefiltered } from './prefilter.js'

/** A fresh copy: never `slice()`, which on a Node Buffer is a view of the shared pool. */
export function copyBytes (bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/** dcmjs reads a whole ArrayBuffer: hand it one holding exactly these bytes. */
function exactArrayBuffer (bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer
  return copyBytes(bytes).buffer as ArrayBuffer
}

function countElements (ds: RawDataset): number {
  let n = 0
  for (const el of Object.values(ds)) {
    n++
    if (el.vr !== 'SQ') continue
    for (const item of el.Value ?? []) if (typeof item === 'object' && item !== null) n += countElements(item as RawDataset)
  }
  return n
}

/** Parse the prefiltered object; throws DeidFormatError when dcmjs fails or disagrees with the framing. */
export function parseValues (pre: Prefiltered): RawDataset {
  let dict: RawDataset
  try {
    dict = readUntilPixels(exactArrayBuffer(pre.bytes)).dict
  } catch (err) {
    // dcmjs messages can quote values; only the kind of failure is passed on.
    const message = err instanceof Error ? err.message : ''
    if (/character set/i.test(message)) throw new DeidFormatError('unsupported', 'Specific Character Set not supported by the value parser')
    throw new DeidFormatError('malformed', 'the value parser rejected the data set')
  }
  const { tags, count, opaque } = pre.expected
  const same = Object.keys(dict).length === tags.length && tags.every(tag => dict[tag] !== undefined) &&
    (opaque || countElements(dict) === count)
  if (!same) throw new DeidFormatError('malformed', 'element structure is inconsistent (a length or VR is wrong)')
  return dict
}
