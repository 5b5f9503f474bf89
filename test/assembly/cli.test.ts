import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { registerAssemble } from '../../src/cli/assemble.js'
import { readNifti } from '../../src/assembly/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { readFile } from 'node:fs/promises'

function program (): Command {
  const p = new Command('dm2').exitOverride()
  registerAssemble(p)
  return p
}

describe('dm2 assemble', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => { dir = await tempDir('dm2-cli-asm-') })
  afterAll(async () => { await dir.remove() })
  afterEach(() => { vi.restoreAllMocks() })

  it('writes the volume and sidecar, and prints uneven spacing on stderr', async () => {
    const series = join(dir.path, 'uneven')
    await writeSeries(series, { seed: 1, rows: 8, columns: 9, sliceOffsets: [0, 3, 6, 9.5, 12, 15] })
    const out = join(dir.path, 'out', 'v.nii.gz')
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const err = vi.spyOn(console, 'error').mockImplementation(() => {})
    await program().parseAsync(['node', 'dm2', 'assemble', series, '-o', out])
    expect(err.mock.calls.map(c => String(c[0]))).toEqual([expect.stringMatching(/^warning: slice spacing is uneven/)])
    expect(log.mock.calls.map(c => String(c[0])).join('\n')).toContain('9 × 8 × 6 voxels')
    expect((await readdir(join(dir.path, 'out'))).sort()).toEqual(['v.json', 'v.nii.gz'])
    const img = readNifti(new Uint8Array(await readFile(out)))
    expect(img.dims).toEqual([9, 8, 6])
    expect(img.pixdim[3]).toBeCloseTo(3, 5)
  })

  it('fails with the typed error and writes nothing for a series with a missing slice', async () => {
    const series = join(dir.path, 'gap')
    await writeSeries(series, { seed: 2, rows: 8, columns: 9, sliceOffsets: [0, 3, 9] })
    vi.spyOn(console, 'log').mockImplementation(() => {})
    await expect(program().parseAsync(['node', 'dm2', 'assemble', series, '-o', join(dir.path, 'gap.nii')]))
      .rejects.toMatchObject({ name: 'MissingSliceError' })
    expect((await readdir(dir.path)).filter(f => f.startsWith('gap.'))).toEqual([])
  })

  it('can skip the sidecar', async () => {
    const series = join(dir.path, 'plain')
    await writeSeries(series, { seed: 3, rows: 4, columns: 4, slices: 3 })
    vi.spyOn(console, 'log').mockImplementation(() => {})
    await program().parseAsync(['node', 'dm2', 'assemble', series, '-o', join(dir.path, 'plain', '..', 'p.nii'), '--no-sidecar', '-q'])
    expect((await readdir(dir.path)).filter(f => f.startsWith('p.'))).toEqual(['p.nii'])
  })
})
