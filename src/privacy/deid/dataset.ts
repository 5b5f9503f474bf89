/**
 * Applies Table E.1-1 to a dcmjs raw data set, in place, at every depth (PS3.15 E.1.1: the
 * actions apply to attributes wherever they occur, including inside sequence items).
 *
 * Beyond the rows of the table: every private (odd-group) element is removed, group lengths are
 * removed (the changes make them wrong), an overlay group loses all its elements with its Overlay
 * Data, and a standard sequence that arrives encoded as UN (items unreadable here) is removed.
 */
import { resolveAction } from './actions.js'
import type { Action } from './actions.js'
import type { RawDataset, RawElement } from './dcmjs.js'
import { isSequenceTag } from './dcmjs.js'
import type { ResolvedOptions } from './options.js'
import type { ReportBuilder } from './report.js'
import { formatTag } from './report.js'
import { isOverlayTag, isPrivateTag, profileRow } from './table/index.js'
import { TEXT_VRS, checkNumberStrings, dummyValue, emptyValue, isEmpty, mapUidValues, shiftDates } from './values.js'

export interface ProcessContext {
  readonly options: ResolvedOptions
  readonly mapUid: (uid: string) => string
  /** Days to shift dates by under the Modified Dates option. */
  readonly shiftDays: number
  readonly report: ReportBuilder
}

/** `profile`: apply the table; `dummy`: also dummy every unlisted text value (inside a D sequence). */
type Mode = 'profile' | 'dummy'

function items (el: RawElement): RawDataset[] {
  return (el.Value ?? []).filter((v): v is RawDataset => typeof v === 'object' && v !== null)
}

function recurse (el: RawElement, prefix: string, tag: string, ctx: ProcessContext, mode: Mode): void {
  items(el).forEach((item, i) => { processDataset(item, ctx, mode, `${prefix}${formatTag(tag)}[${i}].`) })
}

export function processDataset (ds: RawDataset, ctx: ProcessContext, mode: Mode = 'profile', prefix = ''): void {
  const { report } = ctx
  for (const tag of Object.keys(ds)) {
    const el = ds[tag]
    if (el === undefined) continue
    if (tag.startsWith('0002')) { delete ds[tag]; report.add(prefix, tag, 'X', 'meta'); continue }
    if (isPrivateTag(tag)) { delete ds[tag]; report.add(prefix, tag, 'X', 'private'); continue }
    if (tag.endsWith('0000')) { delete ds[tag]; report.add(prefix, tag, 'X', 'group-length'); continue }
    const row = profileRow(tag)
    if (isOverlayTag(tag)) {
      delete ds[tag]
      report.add(prefix, tag, 'X', row === undefined ? 'overlay' : 'table')
      continue
    }
    if (el.vr === 'UN' && isSequenceTag(tag)) { delete ds[tag]; report.add(prefix, tag, 'X', 'unparsed-sequence'); continue }
    if (row === undefined) {
      processUnlisted(ds, tag, el, ctx, mode, prefix)
      continue
    }
    const { action, fromOption } = resolveAction(row, el.vr, ctx.options)
    const reason = fromOption ? 'option' : 'table'
    applyAction(ds, tag, el, action, reason, ctx, prefix)
  }
}

function processUnlisted (ds: RawDataset, tag: string, el: RawElement, ctx: ProcessContext, mode: Mode, prefix: string): void {
  if (el.vr === 'SQ') { recurse(el, prefix, tag, ctx, mode); return }
  if (mode === 'dummy' && TEXT_VRS.has(el.vr) && !isEmpty(el)) {
    ctx.report.add(prefix, tag, dummyValue(el), 'dummy-sequence')
    return
  }
  checkNumberStrings(tag, el)
}

function applyAction (ds: RawDataset, tag: string, el: RawElement, action: Action, reason: 'table' | 'option', ctx: ProcessContext, prefix: string): void {
  const { report } = ctx
  const isSq = el.vr === 'SQ'
  // UN values of listed attributes cannot be interpreted: only removal, emptying or keeping.
  if (el.vr === 'UN' && action !== 'X' && action !== 'K') action = 'Z'
  switch (action) {
    case 'X':
      delete ds[tag]
      report.add(prefix, tag, 'X', reason)
      return
    case 'Z':
      if (!isEmpty(el)) { emptyValue(el); report.add(prefix, tag, 'Z', reason) }
      return
    case 'D':
      if (isSq) { report.add(prefix, tag, 'D', reason); recurse(el, prefix, tag, ctx, 'dummy'); return }
      if (isEmpty(el)) return
      if (el.vr === 'UI') { mapUidValues(el, ctx.mapUid); report.add(prefix, tag, 'U', reason); return }
      report.add(prefix, tag, dummyValue(el), reason)
      return
    case 'U':
      if (isSq) { report.add(prefix, tag, 'U', reason); recurse(el, prefix, tag, ctx, 'profile'); return }
      if (isEmpty(el)) return
      if (el.vr === 'UI') { mapUidValues(el, ctx.mapUid); report.add(prefix, tag, 'U', reason); return }
      emptyValue(el)
      report.add(prefix, tag, 'Z', reason)
      return
    case 'R':
      report.add(prefix, tag, 'U', reason)
      if (isSq) recurse(el, prefix, tag, ctx, 'profile')
      else if (el.vr === 'UI') mapUidValues(el, ctx.mapUid)
      else emptyValue(el)
      return
    case 'C':
      if (isEmpty(el)) return
      if (shiftDates(el, ctx.shiftDays)) { report.add(prefix, tag, 'C', reason); return }
      // Not a full date: fall back to the basic action, as if the option did not apply.
      applyBasic(ds, tag, el, ctx, prefix)
      return
    default: // 'K'
      report.add(prefix, tag, 'K', reason)
      if (isSq) recurse(el, prefix, tag, ctx, 'profile')
      else checkNumberStrings(tag, el)
  }
}

function applyBasic (ds: RawDataset, tag: string, el: RawElement, ctx: ProcessContext, prefix: string): void {
  const row = profileRow(tag)
  if (row === undefined) return
  const basic = resolveAction(row, el.vr, { ...ctx.options, dates: 'remove', retainDeviceIdentity: false }).action
  applyAction(ds, tag, el, basic, 'table', ctx, prefix)
}
