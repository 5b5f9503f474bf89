import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSFER_SYNTAX, expectedSlices, generateFamily, writeSeries } from '../../src/synthetic/index.js'
import type { SeriesOptions, TransferSyntaxName } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { readNatural, run } from './read.js'

const DCMTK_TS_NAME: Record<TransferSyntaxName, string> = {
  'explicit-le': 'LittleEndianExplicit',
  'implicit-le': 'LittleEndianImplicit',
  'explicit-be': 'BigEndianExplicit',
  deflated: 'DeflatedLittleEndianExplicit',
  rle: 'RLELossless'
}

describe('synthetic series read by DCMTK', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => { dir = await tempDir('dm2-synth-') })
  afterAll(async () => { await dir.remove() })

  const variants: Record<string, SeriesOptions> = {
    'CT axial, explicit LE': { seed: 1, slices: 3 },
    'MR sagittal, implicit LE': { seed: 2, modality: 'MR', orientation: 'sagittal', transferSyntax: 'implicit-le', slices: 3 },
    'CT coronal, big endian': { seed: 3, orientation: 'coronal', transferSyntax: 'explicit-be', slices: 3 },
    'MR oblique, deflated': { seed: 4, modality: 'MR', orientation: 'oblique', transferSyntax: 'deflated', slices: 3 },
    'CT RLE, 12-bit unsigned': { seed: 5, transferSyntax: 'rle', signed: false, bitsStored: 12, slices: 3 },
    'Enhanced MR multi-frame': { seed: 6, modality: 'MR', multiFrame: true, instanceOrder: 'shuffled', slices: 4 }
  }

  for (const [name, opts] of Object.entries(variants)) {
    it(`dcmdump parses every file without complaint: ${name}`, async () => {
      const folder = join(dir.path, name.replace(/[^a-z0-9]+/gi, '_'))
      const { files, meta } = await writeSeries(folder, opts)
      for (const f of files) {
        const out = run('dcmdump', ['-q', '+P', '0002,0010', '+P', '0020,000e', join(folder, f.name)])
        expect(out).not.toMatch(/^[EW]:/m)
        expect(out).toContain(`=${DCMTK_TS_NAME[opts.transferSyntax ?? 'explicit-le']} `)
        expect(out).toContain(meta.seriesInstanceUID)
      }
    })
  }

  // DCMTK decodes our RLE and inflates our deflate: the pixels it gets are the phantom's.
  const decoders: Array<[TransferSyntaxName, string, string[]]> = [
    ['rle', 'dcmdrle', []],
    ['deflated', 'dcmconv', ['+te']],
    ['explicit-be', 'dcmconv', ['+te']],
    ['implicit-le', 'dcmconv', ['+te']]
  ]
  for (const [syntax, tool, args] of decoders) {
    it(`${tool} turns our ${syntax} files into the expected uncompressed pixels`, async () => {
      const opts: SeriesOptions = { seed: 9, transferSyntax: syntax, slices: 2, rows: 33, columns: 47 }
      const folder = join(dir.path, `dec_${syntax}`)
      const { files } = await writeSeries(folder, opts)
      const expected = expectedSlices(opts)
      for (const [k, f] of files.entries()) {
        const out = join(folder, `${f.name}.raw.dcm`)
        run(tool, [...args, join(folder, f.name), out])
        const { meta, ds } = readNatural(new Uint8Array(await readFile(out)))
        expect(meta.TransferSyntaxUID).toBe(TRANSFER_SYNTAX['explicit-le'])
        const px = new Int16Array((ds.PixelData as ArrayBuffer[])[0] as ArrayBuffer)
        expect(Array.from(px)).toEqual(Array.from(expected[k]!))
      }
    })
  }

  it('makes a family of known transformations sharing study and geometry', async () => {
    const base: SeriesOptions = { seed: 'fam', slices: 3, rows: 24, columns: 20, noiseSigma: 0 }
    const [a, noisy, bright, shifted] = generateFamily(base, [
      { name: 'noisy', noiseSigma: 25 },
      { name: 'brighter', intensityScale: 1.5 },
      { name: 'shifted', shift: [2.8, 0, 0] }
    ])
    for (const m of [noisy, bright, shifted]) {
      expect(m!.meta.studyInstanceUID).toBe(a!.meta.studyInstanceUID)
      expect(m!.meta.frameOfReferenceUID).toBe(a!.meta.frameOfReferenceUID)
      expect(m!.meta.seriesInstanceUID).not.toBe(a!.meta.seriesInstanceUID)
      expect(m!.meta.identity.patientId).toBe(a!.meta.identity.patientId)
      expect(m!.meta.positions).toEqual(a!.meta.positions)
    }
    const baseVol = expectedSlices(base)[1]!
    const brightVol = expectedSlices({ ...base, intensityScale: 1.5 })[1]!
    // Brighter: HU × 1.5 (stored = HU + 1024).
    for (let i = 0; i < baseVol.length; i += 7) {
      expect(brightVol[i]).toBe(Math.round((baseVol[i]! - 1024) * 1.5 + 1024))
    }
    // A shift of 4 columns (4 × 0.7 mm) moves the phantom 4 voxels along the rows.
    const shiftedVol = expectedSlices({ ...base, shift: [2.8, 0, 0] })[1]!
    for (let j = 0; j < 24; j++) {
      for (let i = 4; i < 20; i++) expect(shiftedVol[j * 20 + i]).toBe(baseVol[j * 20 + i - 4])
    }
    await writeSeries(join(dir.path, 'family'), noisy!)
    run('dcmdump', ['-q', join(dir.path, 'family', noisy!.files[0]!.name)])
  })
})
