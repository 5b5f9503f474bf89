import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileDownloads, memoryDownloads } from '../../src/api/downloads.js'
import { tempDir } from '../helpers/tmp.js'

const removers: Array<() => Promise<void>> = []
afterEach(async () => { await Promise.all(removers.splice(0).map(async r => { await r() })) })

describe('where a download keeps its sealed chunks', () => {
  it('in memory: a read waits for its chunk, lets it go, and the chunk still counts as held', async () => {
    const d = memoryDownloads()
    const waiting = d.read(1)
    await d.put(0, Uint8Array.of(0))
    await d.put(1, Uint8Array.of(1))
    expect([...await waiting]).toEqual([1])
    expect([...await d.read(0)]).toEqual([0])
    // A second transfer (the rest after the chunks that came with the answer) skips both.
    expect(await d.has(0)).toBe(true)
    expect(await d.has(1)).toBe(true)
    expect(await d.has(2)).toBe(false)
  })

  it('in memory: a failed transfer fails the reads waiting and those after', async () => {
    const d = memoryDownloads()
    const waiting = d.read(3)
    d.fail?.(new Error('source gone'))
    await expect(waiting).rejects.toThrow('source gone')
    await expect(d.read(4)).rejects.toThrow('source gone')
  })

  it('in files: resumable (held across instances), 0600, removed whole', async () => {
    const dir = await tempDir()
    removers.push(dir.remove)
    const folder = join(dir.path, 'downloads', 'cid')
    const first = await fileDownloads(folder)
    await first.put(2, Uint8Array.of(7, 8))
    const again = await fileDownloads(folder)
    expect(await again.has(2)).toBe(true)
    expect(await again.has(0)).toBe(false)
    expect([...await again.read(2)]).toEqual([7, 8])
    expect((await stat(join(folder, 'chunk-2'))).mode & 0o777).toBe(0o600)
    await again.remove()
    await expect(stat(folder)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
