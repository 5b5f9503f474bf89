/**
 * Slices read as they arrive: headers parsed once, bytes kept within the
 * budget (the rest read from disk again), a damaged or replaced file never
 * trusted, and assembly from them identical to assembling the files.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { assembleVolume, planAssembly, sourcesFromDirectory } from '../../src/assembly/index.js'
import { EarlySlices } from '../../src/imaging/early-slices.js'
import { tempDir } from '../helpers/tmp.js'
import { writeTestSeries } from './helpers.js'

describe('EarlySlices', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let files: Array<{ name: string, path: string }>

  beforeEach(async () => {
    tmp = await tempDir('dm2-early-')
    const dir = join(tmp.path, 'series')
    files = (await writeTestSeries(dir)).map(name => ({ name, path: join(dir, name) }))
  })
  afterEach(async () => { await tmp.remove() })

  it('parses each header on arrival and assembles the same volume as the files', async () => {
    const early = new EarlySlices(1 << 30)
    for (const f of files) early.add(f)
    early.add(files[0] as { name: string, path: string }) // announced twice: read once
    await early.settled()
    const sources = early.sources(files)
    expect(sources.every(s => early.headerOf(s)?.kind === 'image')).toBe(true)
    // Pass 1 needs no read at all.
    let reads = 0
    const counted = sources.map(s => ({ name: s.name, read: async () => { reads++; return await s.read() } }))
    const plan = await planAssembly(counted, { headerOf: s => early.headerOf(sources[counted.indexOf(s)] as typeof s) })
    expect(reads).toBe(0)
    expect(plan.dims[2]).toBe(files.length)
    const fromEarly = await assembleVolume(sources, { headerOf: early.headerOf })
    const fromFiles = await assembleVolume(await sourcesFromDirectory(join(tmp.path, 'series')))
    expect(Buffer.from(fromEarly.toNifti()).equals(Buffer.from(fromFiles.toNifti()))).toBe(true)
    early.close()
    expect(early.heldBytes).toBe(0)
  })

  it('keeps bytes only within its budget; the rest are read from disk when needed', async () => {
    const size = (await readFile(files[0]?.path as string)).length
    const early = new EarlySlices(2 * size)
    for (const f of files) early.add(f)
    await early.settled()
    expect(early.heldBytes).toBeLessThanOrEqual(2 * size)
    expect(early.heldBytes).toBeGreaterThan(0)
    // Every source still reads its whole file, held or not.
    for (const [i, s] of early.sources(files).entries()) {
      expect(Buffer.from(await s.read()).equals(await readFile(files[i]?.path as string))).toBe(true)
    }
  })

  it('never trusts a damaged file or one the provider replaced by another path', async () => {
    const [first, second] = files as [{ name: string, path: string }, { name: string, path: string }]
    await writeFile(first.path, Buffer.from('not DICOM at all'))
    const early = new EarlySlices(1 << 30)
    early.add(first)
    early.add(second)
    await early.settled()
    const moved = { name: second.name, path: join(tmp.path, 'elsewhere.dcm') }
    await writeFile(moved.path, await readFile(second.path))
    const [a, b] = early.sources([first, moved])
    // The damaged one parsed as "not DICOM" (skipped), the moved one is read afresh.
    expect(early.headerOf(a as never)?.kind).toBe('skipped')
    expect(early.headerOf(b as never)).toBeUndefined()
    await expect(planAssembly(early.sources([first]), { headerOf: early.headerOf })).rejects.toThrow(/no image object/)
  })
})
