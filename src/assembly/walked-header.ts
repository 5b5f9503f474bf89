/**
 * The header of a plain single-frame image read by the node's own bounded
 * DICOM walker (src/dicom/part10) instead of dcmjs: dcmjs builds every
 * element as an object and then naturalizes the whole data set, about
 * 0.5 ms per slice, which for a 32-slice series was the largest cost of
 * assembly's first pass. The walker gives the same naturalized values for
 * what assembly reads (keywords; numbers for US/UL/FL/FD and well-formed
 * IS/DS; arrays for multiple values) in about a fifth of the time.
 *
 * Anything less plain goes to dcmjs, as before: big-endian or deflated
 * syntaxes, multi-frame objects, functional-group sequences (assembly and
 * the sidecar read inside them), no PixelData, and any data set the strict
 * walker rejects (dcmjs is more lenient, and its errors are the ones
 * assembly reports).
 */
import { BufferSource, decodeAttributes, keywordOf, syntaxOf, tagOf, walkDataset, type DatasetScan, type DatasetWalk } from '../dicom/part10/index.js'
import { KEEP_VALUE_BYTES, MAX_ELEMENTS, MAX_SEQUENCE_DEPTH } from '../dicom/constants.js'
import type { NaturalDataset } from './dcmjs.js'
import { SIDECAR_SEQUENCES } from './sidecar.js'

const BIG_ENDIAN = '1.2.840.10008.1.2.2'
const DEFLATED = '1.2.840.10008.1.2.1.99'

/** Top-level sequences whose items assembly (functional groups, PS3.3 C.7.6.16) or the sidecar read. */
const READ_INSIDE = new Set(['SharedFunctionalGroupsSequence', 'PerFrameFunctionalGroupsSequence', ...SIDECAR_SEQUENCES].map(keyword => {
  const tag = tagOf(keyword)
  if (tag === undefined) throw new Error(`no tag for ${keyword}`)
  return tag
}))

const LIMITS = { keepValueBytes: KEEP_VALUE_BYTES, maxDepth: MAX_SEQUENCE_DEPTH, maxElements: MAX_ELEMENTS }

/** The naturalized header, or undefined when dcmjs must read this object (see above). */
export function walkedHeader (bytes: Uint8Array, bodyStart: number, transferSyntaxUID: string): NaturalDataset | undefined {
  if (transferSyntaxUID === BIG_ENDIAN || transferSyntaxUID === DEFLATED) return undefined
  let scan: ReturnType<typeof walkDataset>
  try {
    scan = walkDataset(new BufferSource(bytes), bodyStart, bytes.length, syntaxOf(transferSyntaxUID), LIMITS)
  } catch {
    return undefined
  }
  if (!plainImage(scan)) return undefined
  let attrs: ReturnType<typeof decodeAttributes>
  try {
    attrs = decodeAttributes(scan.elements, syntaxOf(transferSyntaxUID).littleEndian)
  } catch {
    return undefined
  }
  return naturalized(scan, attrs)
}

/**
 * The same header from a walk already made of the same bytes with the same
 * limits (ingest's inspection, see DatasetWalk): neither walked nor decoded
 * again. Its attributes are copied, not changed.
 */
export function headerOfWalk (walk: DatasetWalk): NaturalDataset | undefined {
  const ts = walk.transferSyntaxUid
  if (ts === BIG_ENDIAN || ts === DEFLATED || !plainImage(walk.scan)) return undefined
  return naturalized(walk.scan, { ...walk.attributes })
}

/** Single-frame pixel data, no sequence assembly or the sidecar reads inside. */
function plainImage (scan: DatasetScan): boolean {
  if (scan.pixelData === undefined) return false
  for (const tag of scan.sequences) if (READ_INSIDE.has(tag)) return false
  return true
}

function naturalized (scan: DatasetScan, attrs: ReturnType<typeof decodeAttributes>): NaturalDataset | undefined {
  const ds: NaturalDataset = attrs
  // An empty IS or DS value is null for dcmjs (and so "absent" to assembly), not "" (which Number() makes 0).
  for (const el of scan.elements.values()) {
    if (el.vr !== 'IS' && el.vr !== 'DS') continue
    const keyword = keywordOf(el.tag)
    const v = keyword === undefined ? undefined : ds[keyword]
    if (keyword === undefined || v === undefined) continue
    if (v === '') ds[keyword] = null
    else if (Array.isArray(v)) ds[keyword] = v.map(x => x === '' ? null : x)
  }
  const frames = ds.NumberOfFrames
  if (frames !== undefined && frames !== null && frames !== 1) return undefined
  return ds
}
