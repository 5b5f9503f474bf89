import { describe, expect, it } from 'vitest'
import { CT_RANGE, extractFeatures, ncc } from '../../src/similarity/index.js'
import type { VolumeInput } from '../../src/similarity/index.js'
import { acquire, axial, ctVolume, randomPhantom } from './phantom.js'
import type { Acquisition, Phantom, Vec3 } from './phantom.js'

const errorName = (f: () => unknown): string => { try { f(); return 'no error' } catch (err) { return (err as Error).name } }

function maxDiff (a: Float32Array, b: Float32Array): number {
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)))
  return worst
}

function rotation (degZ: number, degX: number): (v: Vec3) => Vec3 {
  const [cz, sz, cx, sx] = [Math.cos(degZ * Math.PI / 180), Math.sin(degZ * Math.PI / 180), Math.cos(degX * Math.PI / 180), Math.sin(degX * Math.PI / 180)]
  return ([x, y, z]) => {
    const [x1, y1] = [cz * x - sz * y, sz * x + cz * y]
    return [x1, cx * y1 - sx * z, sx * y1 + cx * z]
  }
}

describe('feature histogram and range', () => {
  it('CT: fixed HU range, hand-computed bins', () => {
    // 2×2×2: four voxels of air (-1024), two of water (0), two at 3071.
    // 64 bins over [-1024, 3071]: 0 HU → (0 + 1024)·64/4095 = 16.004 → bin 16; 3071 → 64 → last bin (63)
    const data = Int16Array.from([-1024, -1024, -1024, -1024, 0, 0, 3071, 3071])
    const f = extractFeatures({ data, dims: [2, 2, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], modality: 'ct', bodyPart: 'Chest ' })
    expect(f.range).toEqual(CT_RANGE)
    expect(f.keys).toEqual({ modality: 'CT', bodyPart: 'CHEST' })
    expect(f.histogram.length).toBe(64)
    expect(f.histogram[0]).toBe(0.5)
    expect(f.histogram[16]).toBe(0.25)
    expect(f.histogram[63]).toBe(0.25)
    expect(f.histogram.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 7)
  })

  it('MR: robust 0.5–99.5 percentiles of the volume itself, unchanged by a gain', () => {
    // values 0…999 once each: the 0.5 % point of 1000 voxels is past the 5th value (4), the 99.5 % past the 995th (994)
    const data = Float32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000)
    const vol: VolumeInput = { data, dims: [10, 10, 10], affine: [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], modality: 'MR' }
    const f = extractFeatures(vol)
    expect(f.range[0]).toBeCloseTo(4, 1)
    expect(f.range[1]).toBeCloseTo(994, 1)
    const g = extractFeatures({ ...vol, data: data.map(v => 3 * v) })
    expect(g.range[0]).toBeCloseTo(3 * f.range[0], 6)
    expect(Array.from(g.histogram)).toEqual(Array.from(f.histogram))
    expect(ncc(f.thumbnail, g.thumbnail)).toBeCloseTo(1, 6)
    expect(maxDiff(f.thumbnail, g.thumbnail)).toBeLessThan(1e-5)
  })

  it('applies rescale: stored int16 + slope/intercept gives the features of the physical values', () => {
    const phantom = randomPhantom(3)
    const acq = axial([30, 30, 24], [3, 3, 4])
    const { data, affine } = acquire(phantom, acq)
    const stored = Int16Array.from(data, v => Math.round((v + 1024) / 2))
    const a = extractFeatures({ data: Float32Array.from(stored, v => 2 * v - 1024), dims: acq.dims, affine, modality: 'CT' })
    const b = extractFeatures({ data: stored, rescale: { slope: 2, intercept: -1024 }, dims: acq.dims, affine, modality: 'CT' })
    expect(Array.from(b.histogram)).toEqual(Array.from(a.histogram))
    expect(maxDiff(a.thumbnail, b.thumbnail)).toBeLessThan(1e-6)
  })
})

describe('thumbnail on the canonical RAS grid', () => {
  // asymmetric along every axis, so that a reversed or swapped axis shows
  const phantom: Phantom = {
    background: -1000,
    blobs: [
      { centre: [8, -6, 6], radii: [34, 28, 36], value: 40 },
      { centre: [15, 18, -10], radii: [10, 8, 12], value: 900 },
      { centre: [-12, -15, 14], radii: [8, 10, 8], value: -600 },
      { centre: [5, -5, 22], radii: [6, 6, 6], value: 250 }
    ]
  }

  it('is the same for a permuted and flipped acquisition of the same object (NCC > 0.95, here ≈ 1)', () => {
    const a = axial([48, 40, 36], [2, 2.5, 3])
    // voxel i along −S (3 mm), j along +R (2 mm), k along −A (2.5 mm): same voxel centres, other order
    const b: Acquisition = { dims: [36, 48, 40], columns: [[0, 0, -3], [2, 0, 0], [0, -2.5, 0]] }
    const fa = extractFeatures(ctVolume(phantom, a))
    const fb = extractFeatures(ctVolume(phantom, b))
    expect(fb.extent).toEqual(fa.extent)
    expect(fa.extent).toEqual([96, 100, 108])
    expect(ncc(fa.thumbnail, fb.thumbnail)).toBeGreaterThan(0.95)
    expect(maxDiff(fa.thumbnail, fb.thumbnail)).toBeLessThan(1e-4)
    // control: the same voxels under an affine with one axis reversed are another object
    const vb = ctVolume(phantom, b)
    const mislabelled = vb.affine.map((v, i) => i === 2 || i === 6 || i === 10 ? -v : v)
    expect(ncc(fa.thumbnail, extractFeatures({ ...vb, affine: mislabelled }).thumbnail)).toBeLessThan(0.95)
  })

  it('is the same through the block-averaging path (fine voxels, permuted and flipped)', () => {
    const a = axial([192, 160, 144], [0.5, 0.625, 0.75])
    const b: Acquisition = { dims: [160, 144, 192], columns: [[0, -0.625, 0], [0, 0, 0.75], [-0.5, 0, 0]] }
    const fa = extractFeatures(ctVolume(phantom, a))
    const fb = extractFeatures(ctVolume(phantom, b))
    expect(ncc(fa.thumbnail, fb.thumbnail)).toBeGreaterThan(0.999)
    // and close to the coarse acquisition of the same box
    const coarse = extractFeatures(ctVolume(phantom, axial([48, 40, 36], [2, 2.5, 3])))
    expect(ncc(fa.thumbnail, coarse.thumbnail)).toBeGreaterThan(0.97)
  })

  it('is nearly the same for an oblique acquisition (15° about S, 10° about R)', () => {
    const rot = rotation(15, 10)
    const spacing: Vec3 = [1, 1, 1]
    const columns = [0, 1, 2].map(c => rot([c === 0 ? spacing[0] : 0, c === 1 ? spacing[1] : 0, c === 2 ? spacing[2] : 0])) as [Vec3, Vec3, Vec3]
    const oblique = extractFeatures(ctVolume(phantom, { dims: [96, 100, 108], columns }))
    const straight = extractFeatures(ctVolume(phantom, axial([48, 40, 36], [2, 2.5, 3])))
    expect(oblique.extent.map(e => Math.round(e))).toEqual([96, 100, 108])
    expect(ncc(oblique.thumbnail, straight.thumbnail)).toBeGreaterThan(0.95)
  })

  it('puts R, A, S along increasing x, y, z whatever the voxel order', () => {
    // a single bright blob right (+x), anterior (+y), superior (+z) of centre
    const blob = { background: -1000, blobs: [{ centre: [20, 15, 10] as Vec3, radii: [8, 8, 8] as Vec3, value: 1000 }] }
    const flipped: Acquisition = { dims: [30, 30, 30], columns: [[-2, 0, 0], [0, 0, -2], [0, -2, 0]] }
    for (const acq of [axial([30, 30, 30], [2, 2, 2]), flipped]) {
      const f = extractFeatures(ctVolume(blob, acq), { thumbnailSize: 16 })
      const centre: [number, number, number] = [0, 0, 0]
      let mass = 0
      for (let z = 0; z < 16; z++) {
        for (let y = 0; y < 16; y++) {
          for (let x = 0; x < 16; x++) {
            const v = (f.thumbnail[x + 16 * (y + 16 * z)] as number) - f.thumbnailMin
            centre[0] += v * x; centre[1] += v * y; centre[2] += v * z; mass += v
          }
        }
      }
      // grid 60 mm / 16 voxels = 3.75 mm; blob centre (20, 15, 10) mm → voxel 30/3.75 − 0.5 etc.
      expect(centre.map(c => c / mass)).toEqual([expect.closeTo(50 / 3.75 - 0.5, 0), expect.closeTo(45 / 3.75 - 0.5, 0), expect.closeTo(40 / 3.75 - 0.5, 0)])
    }
  })

  it('reads an LPS affine (DICOM patient coordinates) the same as its RAS form', () => {
    const vol = ctVolume(phantom, axial([24, 20, 18], [4, 5, 6]))
    const lps = vol.affine.map((v, i) => i < 8 ? -v : v)
    const a = extractFeatures(vol)
    const b = extractFeatures({ ...vol, affine: lps, space: 'LPS' })
    expect(b).toEqual(a)
  })

  it('sizes: 32³ by default, 64³ on request, single-slice volumes too; values in [0, 1]', () => {
    const vol = ctVolume(phantom, axial([24, 20, 18], [4, 5, 6]))
    const f = extractFeatures(vol)
    expect(f.size).toBe(32)
    expect(f.thumbnail.length).toBe(32 ** 3)
    const g = extractFeatures(vol, { thumbnailSize: 64, histogramBins: 128 })
    expect(g.thumbnail.length).toBe(64 ** 3)
    expect(g.histogram.length).toBe(128)
    expect(g.thumbnailMin).toBeGreaterThanOrEqual(0)
    expect(g.thumbnailMax).toBeLessThanOrEqual(1)
    const slice = extractFeatures(ctVolume(phantom, axial([40, 40, 1], [2, 2, 3])))
    expect(slice.extent).toEqual([80, 80, 3])
    expect(slice.thumbnailMax).toBeGreaterThan(slice.thumbnailMin)
  })
})

describe('bad volumes get typed errors', () => {
  const base: VolumeInput = { data: new Float32Array(8), dims: [2, 2, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], modality: 'CT' }

  it('rejects inconsistent dims, non-finite values, broken affines, bad keys and options', () => {
    expect(errorName(() => extractFeatures({ ...base, dims: [2, 2, 3] }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, dims: [2, 2, 0] as unknown as [number, number, number] }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, data: Float32Array.from([0, 0, 0, NaN, 0, 0, 0, 0]) }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, data: [1, 2] as unknown as Float32Array }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, affine: [1, 0, 0] }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1] }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, affine: [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, affine: [Infinity, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, space: 'XYZ' as 'RAS' }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, rescale: { slope: 0, intercept: 0 } }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, modality: 'C-T' }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, modality: '' }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures({ ...base, bodyPart: 'A'.repeat(17) }))).toBe('InvalidVolumeError')
    expect(errorName(() => extractFeatures(base, { thumbnailSize: 65 }))).toBe('SimilarityOptionsError')
    expect(errorName(() => extractFeatures(base, { histogramBins: 4 }))).toBe('SimilarityOptionsError')
    expect(errorName(() => extractFeatures(base, { range: [5, 5] }))).toBe('SimilarityOptionsError')
    expect(errorName(() => extractFeatures(base))).toBe('no error')
  })
})
