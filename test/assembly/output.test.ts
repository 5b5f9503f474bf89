/** NIfTI header details, the sidecar's content, nibabel reading our files, and order invariance. */
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assembleVolume, readNifti, sourcesFromBuffers, writeVolume } from '../../src/assembly/index.js'
import { quaternion } from '../../src/assembly/nifti.js'
import { generateSeries, writeSeries } from '../../src/synthetic/index.js'
import type { SeriesOptions } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { pythonWithNibabel } from './helpers.js'

describe('NIfTI output', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => { dir = await tempDir('dm2-nifti-') })
  afterAll(async () => { await dir.remove() })

  it('is read by nibabel with the same sform, qform and voxels', async () => {
    const py = pythonWithNibabel()
    const cases: SeriesOptions[] = [
      { seed: 1, orientation: 'axial' },
      { seed: 2, orientation: 'sagittal', modality: 'MR' },
      { seed: 3, orientation: 'coronal' },
      { seed: 4, orientation: { degrees: [33, -20, 140] }, modality: 'MR', rescaleSlope: 1.5 }
    ]
    for (const [n, opts] of cases.entries()) {
      const folder = join(dir.path, `nib${n}`)
      await writeSeries(join(folder, 'dicom'), { rows: 9, columns: 11, slices: 5, ...opts })
      const out = join(folder, 'v.nii.gz')
      const { plan } = await writeVolume(join(folder, 'dicom'), out)
      const script = [
        'import sys, json, nibabel as nib, numpy as np',
        'img = nib.load(sys.argv[1])',
        'print(json.dumps({"sform": img.get_sform().tolist(), "qform": img.get_qform().tolist(), "shape": list(img.shape),',
        '  "sum": float(img.get_fdata(dtype=np.float64).sum())}))'
      ].join('\n')
      const res = spawnSync(py, ['-c', script, out], { encoding: 'utf8' })
      expect(res.stderr).toBe('')
      const got = JSON.parse(res.stdout) as { sform: number[][], qform: number[][], shape: number[], sum: number }
      const mine = readNifti(new Uint8Array(await readFile(out)))
      const expected = [0, 1, 2].map(r => mine.sform.slice(4 * r, 4 * r + 4))
      expect(got.shape).toEqual(plan.dims)
      for (const m of [got.sform, got.qform]) {
        m.slice(0, 3).forEach((row, r) => row.forEach((v, c) => expect(Math.abs(v - expected[r]![c]!)).toBeLessThan(1e-4)))
      }
      const sum = Array.from(mine.data).reduce((s, v) => s + v * mine.sclSlope + mine.sclInter, 0)
      expect(Math.abs(got.sum - sum)).toBeLessThan(Math.abs(sum) * 1e-6 + 1e-3)
    }
  })

  it('writes a sidecar of descriptive metadata only', async () => {
    const series = generateSeries({ seed: 'sidecar', modality: 'MR', slices: 3, rows: 4, columns: 4 })
    const folder = join(dir.path, 'sidecar')
    await writeSeries(join(folder, 'dicom'), series)
    const { sidecar } = await writeVolume(join(folder, 'dicom'), join(folder, 'v.nii'))
    expect(sidecar).toBe(join(folder, 'v.json'))
    const text = await readFile(sidecar!, 'utf8')
    const json = JSON.parse(text) as Record<string, unknown>
    expect(json).toMatchObject({
      Modality: 'MR',
      Manufacturer: 'DM2 Synthetic',
      ManufacturersModelName: 'Phantom MR 1.5T',
      MagneticFieldStrength: 1.5,
      RepetitionTime: 0.5,
      EchoTime: 0.015,
      FlipAngle: 90,
      SeriesDescription: 'Synthetic MR phantom',
      Slices: 3,
      SliceStep: 2.5,
      DataType: 'uint16',
      Warnings: []
    })
    const m = series.meta
    for (const secret of [m.identity.patientName, m.identity.patientId, m.identity.patientBirthDate, m.identity.accessionNumber,
      m.identity.institutionName, m.identity.stationName, m.identity.referringPhysicianName, m.identity.deviceSerialNumber,
      m.identity.studyDate, m.studyInstanceUID, m.seriesInstanceUID, m.frameOfReferenceUID, m.sopInstanceUIDs[0]!]) {
      expect(text).not.toContain(secret)
    }
    const { plan } = await assembleVolume(sourcesFromBuffers(series.files), { descriptions: false })
    expect(plan.sidecar.SeriesDescription).toBeUndefined()
    expect(plan.sidecar.ProtocolName).toBeUndefined()
  })

  it('gives the same volume whatever order the files come in', async () => {
    const opts: SeriesOptions = { rows: 4, columns: 5, slices: 6, orientation: { degrees: [10, 20, 30] }, seed: 'order' }
    const { files } = generateSeries(opts)
    const reference = await assembleVolume(sourcesFromBuffers(files))
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(files.map((_, i) => i), { minLength: files.length }), async order => {
      const { data, plan } = await assembleVolume(sourcesFromBuffers(order.map(i => files[i]!)))
      expect(Array.from(data)).toEqual(Array.from(reference.data))
      expect(plan.geometry.affineLps).toEqual(reference.plan.geometry.affineLps)
    }), { numRuns: 15 })
  })

  it('turns any rotation into a quaternion that rebuilds it', () => {
    const angle = fc.double({ min: -Math.PI, max: Math.PI, noNaN: true })
    fc.assert(fc.property(angle, angle, angle, fc.boolean(), (x, y, z, mirror) => {
      const [cx, sx, cy, sy, cz, sz] = [Math.cos(x), Math.sin(x), Math.cos(y), Math.sin(y), Math.cos(z), Math.sin(z)]
      // R = Rz·Ry·Rx, columns
      const c1: [number, number, number] = [cz * cy, sz * cy, -sy]
      const c2: [number, number, number] = [cz * sy * sx - sz * cx, sz * sy * sx + cz * cx, cy * sx]
      const c3raw: [number, number, number] = [cz * sy * cx + sz * sx, sz * sy * cx - cz * sx, cy * cx]
      const c3 = mirror ? c3raw.map(v => -v) as [number, number, number] : c3raw
      const { b, c, d, qfac } = quaternion(c1, c2, c3)
      expect(qfac).toBe(mirror ? -1 : 1)
      const a = Math.sqrt(Math.max(0, 1 - b * b - c * c - d * d))
      const r = [
        [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
        [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
        [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b]
      ]
      const cols = [c1, c2, c3]
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) expect(r[i]![j]! * (j === 2 ? qfac : 1)).toBeCloseTo(cols[j]![i]!, 6)
      }
    }), { numRuns: 200 })
  })
})
