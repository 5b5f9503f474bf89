/**
 * Image TOD, assembly on the fly: the slices of one DICOM series → one
 * volume, written as NIfTI-1 (.nii / .nii.gz) with a JSON sidecar of
 * descriptive acquisition metadata (never patient fields).
 *
 * - Order: by ImagePositionPatient along the slice normal (from
 *   ImageOrientationPatient), never InstanceNumber or file name; the step is
 *   measured from positions (SpacingBetweenSlices/SliceThickness are only a
 *   fallback for one slice). Missing slices, duplicated positions and mixed
 *   size/orientation/pixel format are typed errors; uneven spacing and
 *   sheared stacks are warnings (see geometry.ts for the choices).
 * - Values: RescaleSlope/Intercept (or DoseGridScaling) applied; int16/uint16
 *   when exact, float32 otherwise, or raw + scl_slope/scl_inter when the
 *   rescaled range fits no 16-bit type (see scaling.ts).
 * - Objects: single-frame images, Enhanced multi-frame with per-frame
 *   functional groups, classic multi-frame RT Dose with GridFrameOffsetVector;
 *   1/8/16/32-bit MONOCHROME1/2. Colour is refused (UnsupportedImageError).
 * - Transfer syntaxes: Implicit/Explicit VR Little Endian, Explicit Big
 *   Endian, Deflated, RLE Lossless. JPEG, JPEG-LS, JPEG 2000, HTJ2K, JPEG XL
 *   and video are refused with UnsupportedTransferSyntaxError: dcmjs 0.50
 *   has no codec for them (see transfer-syntax.ts).
 * - NIfTI: voxel (i, j, k) = (column, row, slice); sform and qform code 1;
 *   DICOM LPS → NIfTI RAS by negating x and y; pixdim = column spacing, row
 *   spacing, step; xyzt_units mm + s.
 * - Memory: pass 1 keeps a few numbers per frame; pass 2 holds one object and
 *   one slice at a time and streams gzip (`writeVolume`); `assembleVolume`
 *   also holds the output volume.
 *
 * @example
 * import { writeVolume, assembleVolume, sourcesFromBuffers } from './src/assembly/index.js'
 * const { plan } = await writeVolume('/data/ct-series', '/tmp/ct.nii.gz')
 * plan.warnings.forEach(w => console.error(w.message))
 * // in memory (benchmarks, the image cache):
 * const { data, plan: p } = await assembleVolume(sourcesFromBuffers(files))
 * console.log(p.dims, p.scaling.type, data.length)
 */
export { assembleVolume, assembledSlices } from './assemble.js'
export type { AssembledVolume } from './assemble.js'
export { planAssembly, niftiByteLength } from './plan.js'
export { parseHeader, type HeaderResult } from './object.js'
export type { AssembleOptions, AssemblyPlan } from './plan.js'
export { writeVolume, sidecarPath } from './write.js'
export type { WriteOptions, WriteResult } from './write.js'
export { sourcesFromBuffers, sourcesFromDirectory } from './sources.js'
export type { SliceSource } from './sources.js'
export { readNifti } from './nifti-read.js'
export type { NiftiImage } from './nifti-read.js'
export { classifyTransferSyntax } from './transfer-syntax.js'
export type { Warning, StackGeometry } from './geometry.js'
export type { OutputType, ScalingPlan } from './scaling.js'
export * from './errors.js'
export { DEFAULT_GZIP_LEVEL } from './constants.js'
