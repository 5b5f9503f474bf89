/**
 * Stored pixel values of each slice: the phantom's physical value mapped
 * back through the rescale (PS3.3 C.11.1.1.2: physical = stored × slope +
 * intercept), rounded and clamped to BitsStored.
 */
import type { ResolvedOptions } from './options.js'
import { CT_TISSUES, MR_TISSUES, voxelValue } from './phantom.js'
import type { PhantomParams } from './phantom.js'
import { seed32 } from './random.js'

export type StoredSlice = Int16Array | Uint16Array

export function phantomParams (r: ResolvedOptions): PhantomParams {
  const first = r.offsets[0] ?? 0
  const last = r.offsets[r.offsets.length - 1] ?? 0
  return {
    tissues: r.modality === 'CT' ? CT_TISSUES : MR_TISSUES,
    half: [(r.columns - 1) / 2 * r.pixelSpacing[1], (r.rows - 1) / 2 * r.pixelSpacing[0], (last - first) / 2],
    shift: r.shift,
    scale: r.intensityScale,
    noiseSigma: r.noiseSigma,
    noiseKey: seed32(r.noiseSeed, 'noise')
  }
}

export function storedRange (signed: boolean, bitsStored: number): [number, number] {
  return signed ? [-(2 ** (bitsStored - 1)), 2 ** (bitsStored - 1) - 1] : [0, 2 ** bitsStored - 1]
}

/**
 * Stored values of the slice at spatial index `k` (ascending along the
 * normal), row by row, column fastest.
 */
export function storedSlice (r: ResolvedOptions, k: number, params = phantomParams(r)): StoredSlice {
  const { rows, columns } = r
  const out = r.signed ? new Int16Array(rows * columns) : new Uint16Array(rows * columns)
  const [lo, hi] = storedRange(r.signed, r.bitsStored)
  const slope = r.rescale?.slope ?? 1
  const intercept = r.rescale?.intercept ?? 0
  const first = r.offsets[0] ?? 0
  const last = r.offsets[r.offsets.length - 1] ?? 0
  const w = (r.offsets[k] ?? 0) - (first + last) / 2
  for (let j = 0; j < rows; j++) {
    const v = (j - (rows - 1) / 2) * r.pixelSpacing[0]
    for (let i = 0; i < columns; i++) {
      const u = (i - (columns - 1) / 2) * r.pixelSpacing[1]
      const stored = Math.round((voxelValue(params, i, j, k, u, v, w) - intercept) / slope)
      out[j * columns + i] = stored < lo ? lo : stored > hi ? hi : stored
    }
  }
  return out
}
