/**
 * De-identification of one DICOM PS3.10 object in memory (no I/O):
 * framing check → value parse (dcmjs, up to Pixel Data) → burned-in text gate → Table E.1-1 at
 * every depth → added attributes and new File Meta → encode (dcmjs) + Pixel Data copied byte
 * for byte (or cleaned by a rule) → framing check of the output, which must hold no private tag
 * at any depth.
 */
import { MEDIA_STORAGE_DIRECTORY_SOP_CLASS, DATE_SHIFT_MAX_DAYS, DATE_SHIFT_MIN_DAYS } from './constants.js'
import { addDeidAttributes, buildMeta, describeImage, patientKey, text } from './attributes.js'
import { burnedInRisk } from './burned-in.js'
import type { PixelCleaningRule } from './burned-in.js'
import { processDataset } from './dataset.js'
import type { RawDataset } from './dcmjs.js'
import { isSequenceTag, writePart10 } from './dcmjs.js'
import { DeidBurnedInTextError, DeidFormatError, DeidOutputError, DeidUnsupportedObjectError } from './errors.js'
import { checkFraming } from './framing.js'
import type { Framing } from './framing.js'
import { resolveOptions } from './options.js'
import { copyBytes, parseValues } from './parse.js'
import { prefilter } from './prefilter.js'
import type { DeidOptions, ResolvedOptions } from './options.js'
import { ReportBuilder } from './report.js'
import type { DeidReport } from './report.js'
import { isPrivateTag } from './table/index.js'
import { checkSecret, dateShiftDays, uidMapper } from './uid.js'

export interface DeidResult {
  /** The de-identified PS3.10 file. */
  readonly bytes: Uint8Array
  readonly report: DeidReport
}

export interface Deidentifier {
  /** De-identify one PS3.10 file; throws a typed error (see `errors.ts`) and returns nothing on bad input. */
  deidentify: (input: Uint8Array | ArrayBuffer) => DeidResult
}

function pixelBytes (framing: Framing, rule: PixelCleaningRule | undefined, dict: RawDataset, encapsulated: boolean): Uint8Array {
  const px = framing.pixelData
  if (px === undefined) return new Uint8Array(0)
  const element = framing.dataset.subarray(px.start, px.end)
  if (rule === undefined) return element
  const copy = copyBytes(element)
  const image = describeImage(dict, framing.transferSyntaxUid, encapsulated, framing.littleEndian)
  rule.clean(copy.subarray(px.valueStart - px.start), image)
  return copy
}

/** Defence in depth: the output must be well framed and hold no private element at any depth. */
function verifyOutput (bytes: Uint8Array, options: ResolvedOptions): void {
  let check: Framing
  try {
    check = checkFraming(bytes, { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: options.maxDepth + 1 }, isSequenceTag, true)
  } catch (err) {
    throw new DeidOutputError(`output is not well framed (${err instanceof Error ? err.name : 'error'})`)
  }
  for (const tag of check.tags ?? []) {
    if (isPrivateTag(tag)) throw new DeidOutputError('a private element survived')
  }
}

function run (input: Uint8Array, secret: Uint8Array, options: ResolvedOptions, mapUid: (uid: string) => string): DeidResult {
  const framing = checkFraming(input, { maxBytes: options.maxInputBytes, maxDepth: options.maxDepth }, isSequenceTag)
  if (framing.meta.text.get('00020002') === MEDIA_STORAGE_DIRECTORY_SOP_CLASS) {
    throw new DeidUnsupportedObjectError('a DICOMDIR indexes files by offset; rebuild it from the de-identified files')
  }
  const pre = prefilter(framing)
  const dict = parseValues(pre)
  const sopClassUid = text(dict, '00080016')
  const sopInstanceUid = text(dict, '00080018')
  if (sopClassUid === '' || sopInstanceUid === '') throw new DeidUnsupportedObjectError('no SOP Class UID or SOP Instance UID')

  const encapsulated = framing.pixelData?.undefinedLength ?? false
  let rule: PixelCleaningRule | undefined
  if (framing.hasPixels) {
    const image = describeImage(dict, framing.transferSyntaxUid, encapsulated, framing.littleEndian)
    const risk = burnedInRisk(image)
    if (risk !== undefined) {
      rule = framing.pixelData === undefined ? undefined : options.pixelCleaningRules.find(r => r.matches(image))
      if (rule === undefined) throw new DeidBurnedInTextError(risk)
    }
  }

  const report = new ReportBuilder()
  const shiftDays = options.dates === 'modified' ? dateShiftDays(secret, patientKey(dict), DATE_SHIFT_MIN_DAYS, DATE_SHIFT_MAX_DAYS) : 0
  // Pixel geometry is read before the profile runs.
  const pixels = pixelBytes(framing, rule, dict, encapsulated)
  for (const { tag, reason } of pre.removed) report.add('', tag, 'X', reason)
  processDataset(dict, { options, mapUid, shiftDays, report })
  const method = addDeidAttributes(dict, options, rule !== undefined, report)
  const newMeta = buildMeta(framing.meta.tags, sopClassUid, mapUid(sopInstanceUid), pre.transferSyntaxUid, report)
  for (const tag of framing.afterPixelData) report.add('', tag, 'X', 'after-pixel-data')

  let head: Uint8Array
  try {
    head = writePart10(newMeta, dict)
  } catch {
    throw new DeidFormatError('malformed', 'a kept value cannot be encoded in its VR')
  }
  const bytes = new Uint8Array(head.byteLength + pixels.byteLength)
  bytes.set(head, 0)
  bytes.set(pixels, head.byteLength)
  verifyOutput(bytes, options)
  return {
    bytes,
    report: {
      method,
      sopClassUid,
      transferSyntaxUid: pre.transferSyntaxUid,
      ...(rule === undefined ? {} : { pixelCleaningRule: rule.name }),
      entries: report.entries,
      counts: report.counts()
    }
  }
}

/** A de-identifier bound to one site secret and one set of options. */
export function createDeidentifier (options: DeidOptions): Deidentifier {
  const resolved = resolveOptions(options)
  checkSecret(options.secret)
  // A copy: a caller reusing its buffer must not change this de-identifier's mapping.
  const secret = Uint8Array.from(options.secret)
  const mapUid = uidMapper(secret)
  return {
    deidentify: (input) => run(input instanceof Uint8Array ? input : new Uint8Array(input), secret, resolved, mapUid)
  }
}

/** One-shot form of `createDeidentifier(options).deidentify(input)`. */
export function deidentify (input: Uint8Array | ArrayBuffer, options: DeidOptions): DeidResult {
  return createDeidentifier(options).deidentify(input)
}
