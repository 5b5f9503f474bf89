import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChunkFiles, MAX_CHUNK_FILES_AHEAD } from '../../src/imaging/chunk-files.js'
import { tempDir } from '../helpers/tmp.js'

describe('chunk files created ahead', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeEach(async () => { dir = await tempDir('dm2-chunk-files-') })
  afterEach(async () => { await dir.remove() })

  it('creates the expected files ahead, fills them, and creates a missing one on demand', async () => {
    const files = new ChunkFiles(dir.path)
    files.prepare(2)
    await files.write(0, new Uint8Array([1, 2, 3]))
    await files.write(2, new Uint8Array([7])) // beyond the estimate
    await files.close()
    expect((await readdir(dir.path)).sort()).toEqual(['chunk-0', 'chunk-1', 'chunk-2'])
    expect([...await readFile(join(dir.path, 'chunk-0'))]).toEqual([1, 2, 3])
    expect([...await readFile(join(dir.path, 'chunk-2'))]).toEqual([7])
    // chunk-1 was created ahead, never written: empty, closed, left for the work folder's removal.
    expect((await readFile(join(dir.path, 'chunk-1'))).length).toBe(0)
  })

  it('creates no more than its limit ahead', async () => {
    const files = new ChunkFiles(dir.path)
    files.prepare(MAX_CHUNK_FILES_AHEAD + 10)
    await files.close()
    expect(await readdir(dir.path)).toHaveLength(MAX_CHUNK_FILES_AHEAD)
  })

  it('reports a file it could not create when that chunk is written, not before', async () => {
    const gone = join(dir.path, 'gone')
    const files = new ChunkFiles(gone)
    files.prepare(1)
    await expect(files.write(0, new Uint8Array(1))).rejects.toMatchObject({ code: 'ENOENT' })
    await files.close()
    await rm(gone, { recursive: true, force: true })
  })
})
