/** `generateSeries`: options → Part 10 files in memory, plus what a test needs to check them. */
import { SOP_CLASS, TRANSFER_SYNTAX } from './constants.js'
import { commonAttributes, enhancedAttributes, sliceAttributes } from './dataset.js'
import type { SeriesIds } from './dataset.js'
import { encodePart10 } from './encode.js'
import { sliceGeometry } from './geometry.js'
import type { Vec3 } from './geometry.js'
import { fakeIdentity } from './identity.js'
import type { FakeIdentity } from './identity.js'
import { resolveOptions } from './options.js'
import type { ResolvedOptions, SeriesOptions } from './options.js'
import { phantomParams, storedSlice } from './pixels.js'
import type { StoredSlice } from './pixels.js'
import { prng, shuffled, uid } from './random.js'

export interface SeriesFile { name: string, bytes: Uint8Array }

/** Everything known about a generated series; per-slice arrays are in spatial order (ascending along the normal). */
export interface SeriesMeta extends SeriesIds {
  modality: 'CT' | 'MR'
  sopClassUID: string
  transferSyntaxUID: string
  multiFrame: boolean
  rows: number
  columns: number
  slices: number
  pixelSpacing: [number, number]
  /** Nominal (true, even) slice step; `offsets` gives the actual positions. */
  sliceSpacing: number
  offsets: number[]
  rowCosine: Vec3
  columnCosine: Vec3
  normal: Vec3
  positions: Vec3[]
  instanceNumbers: number[]
  sopInstanceUIDs: string[]
  /** Name of the file holding each slice. */
  fileNames: string[]
  signed: boolean
  bitsStored: number
  rescale: { slope: number, intercept: number } | undefined
  bytesPerSlice: number
  identity: FakeIdentity
}

export interface GeneratedSeries { files: SeriesFile[], meta: SeriesMeta }

function instanceNumbersOf (r: ResolvedOptions, n: number): number[] {
  if (Array.isArray(r.instanceNumbers)) return r.instanceNumbers
  const ascending = Array.from({ length: n }, (_, k) => k + 1)
  if (r.instanceNumbers === 'descending') return ascending.reverse()
  if (r.instanceNumbers === 'shuffled') return shuffled(ascending, prng(r.seed ?? 'shuffle', 'instances'))
  return ascending
}

/** The stored volume a generated series holds (spatial order), for checking readers. */
export function expectedSlices (options: SeriesOptions): StoredSlice[] {
  const r = resolveOptions(options)
  const params = phantomParams(r)
  return r.offsets.map((_, k) => storedSlice(r, k, params))
}

/**
 * Generates a series. Deterministic when `options.seed` is set (UIDs,
 * identity, shuffles); pixel content is always deterministic.
 *
 * @example
 * const { files, meta } = generateSeries({ modality: 'MR', orientation: 'sagittal', seed: 7 })
 */
export function generateSeries (options: SeriesOptions = {}): GeneratedSeries {
  const r = resolveOptions(options)
  const n = r.offsets.length
  const seed = r.seed
  const identity = { ...fakeIdentity(seed), ...options.identity }
  const ids: SeriesIds = {
    studyInstanceUID: options.studyInstanceUID ?? uid(seed, 'study'),
    seriesInstanceUID: options.seriesInstanceUID ?? uid(seed, 'series'),
    frameOfReferenceUID: options.frameOfReferenceUID ?? uid(seed, 'frame-of-reference'),
    seriesNumber: options.seriesNumber ?? 1 + (seed === undefined ? 0 : Math.floor(prng(seed, 'series-number')() * 900)),
    seriesDescription: options.seriesDescription ?? (r.modality === 'CT' ? 'Synthetic CT phantom' : 'Synthetic MR phantom')
  }
  const geometry = sliceGeometry({ ...r, offsets: r.offsets })
  const instanceNumbers = instanceNumbersOf(r, n)
  const seriesLabel = `${ids.seriesInstanceUID}`
  const common = commonAttributes(r, identity, ids)
  const params = phantomParams(r)
  const frameBytes = r.rows * r.columns * 2
  const files: SeriesFile[] = []
  let sopInstanceUIDs: string[]
  let fileNames: string[]

  if (r.multiFrame) {
    // Frames in InstanceNumber order, so a reader must sort on the per-frame positions.
    const frameOrder = Array.from({ length: n }, (_, k) => k)
      .sort((a, b) => (instanceNumbers[a] ?? 0) - (instanceNumbers[b] ?? 0))
    const sop = seed === undefined ? uid(undefined, '') : uid(seed, `${seriesLabel}/mf`)
    const all = r.signed ? new Int16Array(n * r.rows * r.columns) : new Uint16Array(n * r.rows * r.columns)
    frameOrder.forEach((k, f) => all.set(storedSlice(r, k, params), f * r.rows * r.columns))
    const dataset = { ...common, ...enhancedAttributes(r, geometry, frameOrder, sop), ...options.override?.(0) }
    const name = r.fileNames === 'uid' ? `${sop}.dcm` : '0001.dcm'
    files.push({ name, bytes: encodePart10(dataset, all, n, r.transferSyntax) })
    sopInstanceUIDs = Array.from({ length: n }, () => sop)
    fileNames = Array.from({ length: n }, () => name)
  } else {
    sopInstanceUIDs = []
    fileNames = []
    for (let k = 0; k < n; k++) {
      const instance = instanceNumbers[k] ?? k + 1
      const sop = seed === undefined ? uid(undefined, '') : uid(seed, `${seriesLabel}/${k}`)
      const dataset = { ...common, ...sliceAttributes(r, geometry, k, instance, sop), ...options.override?.(k) }
      const name = r.fileNames === 'uid' ? `${sop}.dcm` : `${String(instance).padStart(4, '0')}.dcm`
      files.push({ name, bytes: encodePart10(dataset, storedSlice(r, k, params), 1, r.transferSyntax) })
      sopInstanceUIDs.push(sop)
      fileNames.push(name)
    }
  }

  return {
    files,
    meta: {
      ...ids,
      modality: r.modality,
      sopClassUID: r.multiFrame ? (r.modality === 'CT' ? SOP_CLASS.EnhancedCT : SOP_CLASS.EnhancedMR) : SOP_CLASS[r.modality],
      transferSyntaxUID: TRANSFER_SYNTAX[r.transferSyntax],
      multiFrame: r.multiFrame,
      rows: r.rows,
      columns: r.columns,
      slices: n,
      pixelSpacing: [r.pixelSpacing[0], r.pixelSpacing[1]],
      sliceSpacing: r.sliceSpacing,
      offsets: geometry.offsets,
      rowCosine: geometry.row,
      columnCosine: geometry.column,
      normal: geometry.normal,
      positions: geometry.positions,
      instanceNumbers,
      sopInstanceUIDs,
      fileNames,
      signed: r.signed,
      bitsStored: r.bitsStored,
      rescale: r.rescale,
      bytesPerSlice: frameBytes,
      identity
    }
  }
}
