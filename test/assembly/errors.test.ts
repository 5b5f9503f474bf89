/** Typed refusals and documented warnings, on synthetic series built to break one rule each. */
import { readdir, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assembleVolume, classifyTransferSyntax, sourcesFromBuffers, sourcesFromDirectory, writeVolume } from '../../src/assembly/index.js'
import { generateSeries, writeSeries } from '../../src/synthetic/index.js'
import type { SeriesOptions } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'

const small: SeriesOptions = { rows: 6, columns: 5, slices: 6, seed: 'err' }
const assemble = async (opts: SeriesOptions): ReturnType<typeof assembleVolume> =>
  await assembleVolume(sourcesFromBuffers(generateSeries({ ...small, ...opts }).files))

describe('assembly refusals', () => {
  it('a gap of two steps is a missing slice', async () => {
    await expect(assemble({ sliceOffsets: [0, 2.5, 5, 10, 12.5] })).rejects.toMatchObject({ name: 'MissingSliceError', missing: 1 })
    await expect(assemble({ sliceOffsets: [0, 2, 4, 6, 14, 16] })).rejects.toMatchObject({ name: 'MissingSliceError', missing: 3 })
  })

  it('two slices at one position are refused', async () => {
    await expect(assemble({ sliceOffsets: [0, 2.5, 2.5, 5] })).rejects.toMatchObject({ name: 'DuplicatePositionError' })
  })

  it('mixed Rows, Columns or PixelSpacing is a MixedSizeError', async () => {
    const a = generateSeries({ ...small, seriesInstanceUID: '2.25.1' })
    const b = generateSeries({ ...small, rows: 7, seriesInstanceUID: '2.25.1', center: [0, 0, 40] })
    await expect(assembleVolume(sourcesFromBuffers([...a.files, b.files[0]!]))).rejects.toMatchObject({ name: 'MixedSizeError', attribute: 'Rows' })
    await expect(assemble({ override: k => k === 2 ? { PixelSpacing: [0.8, 0.75] } : undefined }))
      .rejects.toMatchObject({ name: 'MixedSizeError', attribute: 'PixelSpacing' })
  })

  it('mixed orientation is a MixedOrientationError', async () => {
    await expect(assemble({ override: k => k === 3 ? { ImageOrientationPatient: [1, 0, 0, 0, 0.9986295, 0.0523360] } : undefined }))
      .rejects.toMatchObject({ name: 'MixedOrientationError', attribute: 'ImageOrientationPatient' })
  })

  it('mixed photometric interpretation or bits is a MixedPixelFormatError', async () => {
    await expect(assemble({ override: k => k === 1 ? { PhotometricInterpretation: 'MONOCHROME1' } : undefined }))
      .rejects.toMatchObject({ name: 'MixedPixelFormatError', attribute: 'photometric' })
    await expect(assemble({ override: k => k === 4 ? { BitsStored: 12, HighBit: 11 } : undefined }))
      .rejects.toMatchObject({ name: 'MixedPixelFormatError', attribute: 'bitsStored' })
  })

  it('objects of two series are not one volume', async () => {
    const a = generateSeries({ ...small, seed: 'a' })
    const b = generateSeries({ ...small, seed: 'b' })
    await expect(assembleVolume(sourcesFromBuffers([...a.files, ...b.files]))).rejects.toMatchObject({ name: 'NotOneSeriesError' })
    await expect(assembleVolume(sourcesFromBuffers([{ name: 'x', bytes: new Uint8Array(10) }]))).rejects.toMatchObject({ name: 'NotOneSeriesError' })
  })

  it('refuses colour and missing geometry', async () => {
    await expect(assemble({ override: () => ({ ImagePositionPatient: undefined }) })).rejects.toMatchObject({ name: 'MissingGeometryError' })
    await expect(assemble({ override: () => ({ PhotometricInterpretation: 'PALETTE COLOR' }) })).rejects.toMatchObject({ name: 'UnsupportedImageError' })
  })

  it('classifies transfer syntaxes: decodes the native ones, Deflated and RLE; refuses codecs', () => {
    for (const uid of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5']) {
      expect(classifyTransferSyntax(uid)).toHaveProperty('encoding')
    }
    const refused = ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70',
      '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91',
      '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.100', '1.2.840.10008.1.2.4.94', '1.2.3.4']
    for (const uid of refused) expect(classifyTransferSyntax(uid)).toHaveProperty('refused')
  })

  it('stops on abort and on the volume size limit', async () => {
    const { files } = generateSeries(small)
    await expect(assembleVolume(sourcesFromBuffers(files), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
    await expect(assembleVolume(sourcesFromBuffers(files), { maxVolumeBytes: 100 })).rejects.toMatchObject({ name: 'VolumeTooLargeError' })
  })
})

describe('assembly warnings and files', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => { dir = await tempDir('dm2-asm-err-') })
  afterAll(async () => { await dir.remove() })

  it('uneven spacing is a warning; the volume uses the mean step', async () => {
    const { plan } = await assemble({ sliceOffsets: [0, 2.5, 5, 7.6, 10, 12.5] })
    expect(plan.warnings.map(w => w.code)).toEqual(['uneven-spacing'])
    expect(plan.geometry.step).toBeCloseTo(2.5, 9)
    expect(plan.geometry.gaps.map(g => Number(g.toFixed(6)))).toEqual([2.5, 2.5, 2.6, 2.4, 2.5])
  })

  it('a sheared stack (gantry tilt) is a warning and the sform keeps the shear', async () => {
    const base = generateSeries(small).meta
    const { plan } = await assemble({
      override: k => ({ ImagePositionPatient: base.positions[k]!.map((v, a) => a === 1 ? v + 0.5 * k : v) })
    })
    expect(plan.warnings.map(w => w.code)).toEqual(['sheared-stack'])
    const a = plan.geometry.affineLps
    expect([a[2], a[6], a[10]].map(v => Number(v!.toFixed(6)))).toEqual([0, 0.5, 2.5])
  })

  it('skips files that are not DICOM, with a warning', async () => {
    const folder = join(dir.path, 'with-readme')
    await writeSeries(folder, small)
    await writeFile(join(folder, 'README.txt'), 'not dicom')
    const { plan } = await assembleVolume(await sourcesFromDirectory(folder))
    expect(plan.warnings.map(w => w.code)).toEqual(['skipped-object'])
    expect(plan.dims).toEqual([5, 6, 6])
  })

  it('leaves nothing behind when it refuses a series', async () => {
    const folder = join(dir.path, 'gap')
    await writeSeries(join(folder, 'dicom'), { ...small, sliceOffsets: [0, 1, 3] })
    await mkdir(join(folder, 'out'))
    await expect(writeVolume(join(folder, 'dicom'), join(folder, 'out', 'v.nii.gz'))).rejects.toMatchObject({ name: 'MissingSliceError' })
    await expect(writeVolume(join(folder, 'dicom'), join(folder, 'out', 'v.img'))).rejects.toMatchObject({ name: 'AssemblyError' })
    expect(await readdir(join(folder, 'out'))).toEqual([])
  })

  it('removes its partial output when a slice turns out truncated while streaming', async () => {
    const folder = join(dir.path, 'truncated')
    const { files } = await writeSeries(join(folder, 'dicom'), small)
    const last = files[files.length - 1]!
    await writeFile(join(folder, 'dicom', last.name), last.bytes.subarray(0, last.bytes.length - 7))
    await mkdir(join(folder, 'out'))
    await expect(writeVolume(join(folder, 'dicom'), join(folder, 'out', 'v.nii.gz'))).rejects.toMatchObject({ name: 'InvalidDicomError' })
    expect(await readdir(join(folder, 'out'))).toEqual([])
  })
})
