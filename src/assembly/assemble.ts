/**
 * Pass 2: the voxels, slice by slice in spatial order. Each object is read
 * and parsed once more when its first frame is needed and dropped as soon as
 * the next object is, so memory holds one object and one output slice
 * (plus the output volume when assembling in memory).
 */
import { InvalidDicomError } from './errors.js'
import { readPixelData } from './object.js'
import { decodeFrame, frameBytes } from './pixels.js'
import { allocate, convertFrame } from './scaling.js'
import type { OutputArray } from './scaling.js'
import { planAssembly } from './plan.js'
import type { AssembleOptions, AssemblyPlan } from './plan.js'
import type { SliceSource } from './sources.js'

/** Output slices (NIfTI order: slice k ascending along the normal), each a fresh array. */
export async function * assembledSlices (plan: AssemblyPlan, options: AssembleOptions = {}): AsyncGenerator<OutputArray> {
  const { format, geometry, scaling } = plan
  const voxels = format.rows * format.columns
  let current: { source: number, pixels: Uint8Array[] } | undefined
  let k = 0
  for (const frame of geometry.order) {
    options.signal?.throwIfAborted()
    const source = plan.sources[frame.source]
    const object = plan.objects.get(frame.source)
    if (source === undefined || object === undefined) throw new InvalidDicomError(`source ${frame.source}`, 'vanished between passes')
    if (current?.source !== frame.source) {
      current = undefined // let the previous object go before reading the next
      const expected = Math.ceil(frameBytes(format) * object.frames)
      current = { source: frame.source, pixels: readPixelData(await source.read(), source.name, expected, object.encoding, object.deflated) }
    }
    const stored = decodeFrame(current.pixels, frame.frame, object.frames, format, object.encoding, source.name)
    const out = allocate(scaling.type, voxels)
    convertFrame(stored, frame, scaling, out)
    k++
    options.onProgress?.({ phase: 'pixels', done: k, total: geometry.order.length })
    yield out
  }
}

export interface AssembledVolume {
  plan: AssemblyPlan
  /** Voxels in NIfTI order (column fastest, then row, then slice). */
  data: OutputArray
  /** The whole .nii file (header + data) as one buffer. */
  toNifti: () => Uint8Array
}

/**
 * Assembles a series in memory.
 *
 * @example
 * const { plan, data } = await assembleVolume(sourcesFromBuffers(files))
 */
export async function assembleVolume (sources: SliceSource[], options: AssembleOptions = {}): Promise<AssembledVolume> {
  const plan = await planAssembly(sources, options)
  const sliceVoxels = plan.dims[0] * plan.dims[1]
  const data = allocate(plan.scaling.type, sliceVoxels * plan.dims[2])
  let k = 0
  for await (const slice of assembledSlices(plan, options)) {
    data.set(slice, k * sliceVoxels)
    k++
  }
  return {
    plan,
    data,
    toNifti: () => {
      const bytes = new Uint8Array(plan.header.length + data.byteLength)
      bytes.set(plan.header)
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), plan.header.length)
      return bytes
    }
  }
}
