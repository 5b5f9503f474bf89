/**
 * Inspection of one DICOM instance on disk: structure (walker), identity
 * (SOP class/instance, study and series UIDs, PS3.3 C.12.1 and C.7.3.1) and
 * pixel data consistency (PS3.3 C.7.6.3; PS3.5 §8.2) — everything a node
 * checks before it accepts an instance. Anything wrong is an
 * `InvalidDicomError` whose `status` is the C-STORE failure to answer with.
 */
import { inflateRawSync } from 'node:zlib'
import { KEEP_VALUE_BYTES, MAX_ELEMENTS, MAX_INFLATED_BYTES, MAX_SEQUENCE_DEPTH } from '../constants.js'
import { InvalidDicomError } from '../errors.js'
import { STORABLE_SYNTAXES, TransferSyntax, isEncapsulated, isJpeg2000, isValidUid } from '../uids.js'
import { checkJ2kHeader, readJ2kHeader } from './jpeg2000.js'
import { readFileMeta } from './meta.js'
import { BufferSource, FileSource, withFileSource, type ByteSource } from './source.js'
import { decimalString, decodeAttributes, integerString, type Attributes } from './values.js'
import { syntaxOf, walkDataset, type DatasetScan } from './walker.js'

export interface PixelSummary {
  rows: number
  columns: number
  frames: number
  samplesPerPixel: number
  bitsAllocated: number
  encapsulated: boolean
  /** Bytes of pixel data (all fragments when encapsulated). */
  bytes: number
}

export interface InstanceInfo {
  transferSyntaxUid: string
  sopClassUid: string
  sopInstanceUid: string
  studyInstanceUid: string
  seriesInstanceUid: string
  /** Top-level attributes by keyword (values up to KEEP_VALUE_BYTES). */
  attributes: Attributes
  pixel?: PixelSummary
  /** Bytes of the whole file. */
  size: number
}

/**
 * The walk of an instance held in memory, as inspection made it: what reads
 * the same bytes next (assembly's header) need not walk and decode them
 * again. Only the element tags and VRs of `scan` are meant to be read again:
 * their values are decoded in `attributes`.
 */
export interface DatasetWalk {
  transferSyntaxUid: string
  scan: DatasetScan
  attributes: Attributes
}

/** An instance in memory, inspected: its info, and the walk it was found by (absent for a deflated data set, walked inflated). */
export interface InspectedBytes {
  info: InstanceInfo
  walk?: DatasetWalk
}

/** What the C-STORE command said the data set is (PS3.7 §9.1.1.1). */
export interface ExpectedInstance {
  sopClassUid: string
  sopInstanceUid: string
}

const LIMITS = { keepValueBytes: KEEP_VALUE_BYTES, maxDepth: MAX_SEQUENCE_DEPTH, maxElements: MAX_ELEMENTS }

function uid (attrs: Attributes, keyword: string): string {
  const v = attrs[keyword]
  if (typeof v !== 'string' || v === '') throw new InvalidDicomError(`missing ${keyword}`)
  if (!isValidUid(v)) throw new InvalidDicomError(`${keyword} is not a valid UID`)
  return v
}

function us (attrs: Attributes, keyword: string, required: boolean): number | undefined {
  const v = attrs[keyword]
  if (typeof v === 'number') return v
  if (required) throw new InvalidDicomError(`image without ${keyword}`)
  return undefined
}

function scanDataset (src: ByteSource, datasetOffset: number, ts: string): { scan: DatasetScan, src: ByteSource } {
  if (ts !== TransferSyntax.DeflatedExplicitLittle) return { scan: walkDataset(src, datasetOffset, src.size, syntaxOf(ts), LIMITS), src }
  let inflated: Buffer
  try {
    inflated = inflateRawSync(src.bytes(datasetOffset, src.size - datasetOffset), { maxOutputLength: MAX_INFLATED_BYTES })
  } catch {
    throw new InvalidDicomError('deflated data set cannot be inflated (corrupt, or larger than the limit)')
  }
  const inner = new BufferSource(inflated)
  return { scan: walkDataset(inner, 0, inner.size, syntaxOf(ts), LIMITS), src: inner }
}

function pixelSummary (scan: DatasetScan, attrs: Attributes, src: ByteSource, ts: string): PixelSummary | undefined {
  const pd = scan.pixelData
  if (pd === undefined) return undefined
  const rows = us(attrs, 'Rows', true) as number
  const columns = us(attrs, 'Columns', true) as number
  const bitsAllocated = us(attrs, 'BitsAllocated', true) as number
  const samplesPerPixel = us(attrs, 'SamplesPerPixel', false) ?? 1
  const pixelRepresentation = us(attrs, 'PixelRepresentation', false) ?? 0
  const frames = integerString(attrs, 'NumberOfFrames', 0x00280008)?.[0] ?? 1
  if (rows < 1 || columns < 1 || frames < 1) throw new InvalidDicomError('image with zero Rows, Columns or NumberOfFrames')
  if (pd.encapsulated !== isEncapsulated(ts)) {
    throw new InvalidDicomError(`pixel data is ${pd.encapsulated ? 'encapsulated' : 'native'} but the transfer syntax is not`)
  }
  if (!pd.encapsulated) {
    const bits = rows * columns * samplesPerPixel * frames * bitsAllocated
    const expected = Math.ceil(bits / 8)
    if (pd.length < expected) throw new InvalidDicomError(`pixel data has ${pd.length} bytes, the image needs ${expected}`)
  } else {
    const first = pd.fragments[0]
    if (first === undefined) throw new InvalidDicomError('encapsulated pixel data without fragments')
    if (isJpeg2000(ts)) {
      const head = src.bytes(first.offset, Math.min(first.length, 4096))
      checkJ2kHeader(readJ2kHeader(head), { rows, columns, samplesPerPixel, pixelRepresentation, bitsAllocated })
    }
  }
  return { rows, columns, frames, samplesPerPixel, bitsAllocated, encapsulated: pd.encapsulated, bytes: pd.length }
}

/** Inspects a Part 10 instance from any byte source. */
export function inspectSource (file: ByteSource, expected?: ExpectedInstance): InstanceInfo {
  return inspectWalk(file, expected).info
}

/** Inspects a whole Part 10 instance held in memory, and keeps the walk (see DatasetWalk). */
export function inspectBytes (bytes: Uint8Array, expected?: ExpectedInstance): InspectedBytes {
  return inspectWalk(new BufferSource(bytes), expected)
}

function inspectWalk (file: ByteSource, expected?: ExpectedInstance): InspectedBytes {
  const meta = readFileMeta(file)
  const ts = meta.transferSyntaxUid
  if (!STORABLE_SYNTAXES.has(ts)) throw new InvalidDicomError(`unsupported transfer syntax ${ts}`)
  const { scan, src } = scanDataset(file, meta.datasetOffset, ts)
  const attrs = decodeAttributes(scan.elements, syntaxOf(ts).littleEndian)
  const sopClassUid = uid(attrs, 'SOPClassUID')
  const sopInstanceUid = uid(attrs, 'SOPInstanceUID')
  // The data set's own UIDs are authoritative; real files often carry a stale
  // MediaStorageSOPInstanceUID in their meta header, so it is not compared.
  if (expected !== undefined && expected.sopClassUid !== sopClassUid) {
    throw new InvalidDicomError('data set SOPClassUID differs from the C-STORE AffectedSOPClassUID', 0xa900)
  }
  if (expected !== undefined && expected.sopInstanceUid !== sopInstanceUid) {
    throw new InvalidDicomError('data set SOPInstanceUID differs from the C-STORE AffectedSOPInstanceUID')
  }
  const studyInstanceUid = uid(attrs, 'StudyInstanceUID')
  const seriesInstanceUid = uid(attrs, 'SeriesInstanceUID')
  integerString(attrs, 'InstanceNumber', 0x00200013)
  decimalString(attrs, 'ImagePositionPatient', 0x00200032)
  decimalString(attrs, 'ImageOrientationPatient', 0x00200037)
  decimalString(attrs, 'PixelSpacing', 0x00280030)
  decimalString(attrs, 'SliceThickness', 0x00180050)
  const info: InstanceInfo = { transferSyntaxUid: ts, sopClassUid, sopInstanceUid, studyInstanceUid, seriesInstanceUid, attributes: attrs, size: file.size }
  const pixel = pixelSummary(scan, attrs, src, ts)
  if (pixel !== undefined) info.pixel = pixel
  return src === file ? { info, walk: { transferSyntaxUid: ts, scan, attributes: attrs } } : { info }
}

/** Inspects a Part 10 file on disk without reading its pixel data into memory. */
export function inspectFile (path: string, expected?: ExpectedInstance): InstanceInfo {
  return withFileSource(path, src => inspectSource(src, expected))
}

/** The same, through a descriptor already open for reading, of a file of `size` bytes (left open). */
export function inspectDescriptor (fd: number, size: number, expected?: ExpectedInstance): InstanceInfo {
  return inspectSource(new FileSource(fd, undefined, size), expected)
}
