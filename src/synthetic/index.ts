/**
 * Synthetic DICOM series for tests, benchmarks and the simulator: realistic
 * multi-slice CT and MR series written with dcmjs as Part 10 files
 * (Explicit VR Little Endian by default; Implicit, Big Endian, Deflated and
 * RLE Lossless on request), in any orientation, with correct 2.25 UIDs,
 * fake but realistic identifying attributes, rescale, and a deterministic
 * phantom (ellipsoids + seeded noise) so an assembled volume can be checked
 * voxel by voxel against `expectedSlices`.
 *
 * Traps for readers are available on purpose: shuffled or gapped
 * InstanceNumbers, file names that do not follow space, a lying
 * SpacingBetweenSlices, uneven or missing slice positions (`sliceOffsets`),
 * per-slice overrides, and one Enhanced multi-frame object with frames out
 * of spatial order.
 *
 * @example
 * import { generateSeries, writeSeries, PAPER_SERIES } from './src/synthetic/index.js'
 * const { files, meta } = generateSeries({ modality: 'CT', orientation: 'oblique', seed: 42 })
 * console.log(files.length, meta.seriesInstanceUID, meta.positions[0])
 * await writeSeries('/tmp/paper-series', { ...PAPER_SERIES, seed: 1 }) // 3 × 0.5 MB slices
 */
export { generateSeries, expectedSlices } from './generate.js'
export type { GeneratedSeries, SeriesFile, SeriesMeta } from './generate.js'
export { writeSeries } from './write.js'
export { generateFamily } from './family.js'
export type { Transform } from './family.js'
export type { SeriesOptions } from './options.js'
export type { Orientation, Vec3 } from './geometry.js'
export { directionCosines, formatDS } from './geometry.js'
export type { FakeIdentity } from './identity.js'
export { fakeIdentity } from './identity.js'
export { uid } from './random.js'
export type { Seed } from './random.js'
export { PAPER_SERIES, SOP_CLASS, TRANSFER_SYNTAX } from './constants.js'
export type { TransferSyntaxName } from './constants.js'
export { SyntheticOptionsError } from './errors.js'
export type { StoredSlice } from './pixels.js'
