import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileDownloads, memoryDownloads, writeDecrypted } from '../../src/api/downloads.js'
import { buildManifest, generateDataKey, sealPayload } from '../../src/privacy/payload/index.js'
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

  it('decryption hashes chunks read back from files again, and trusts the hash check of chunks held in memory', async () => {
    const dir = await tempDir()
    removers.push(dir.remove)
    const key = generateDataKey()
    const data = Uint8Array.from({ length: 3000 }, (_, i) => i % 251)
    const sealed = await sealPayload(data, key, { fileId: 'lfn-d', version: 1, chunkSize: 1024 })
    const manifest = buildManifest({ layout: sealed.layout, chunks: sealed.refs, deidProfile: 'test', master: 'peer' })
    const memory = memoryDownloads()
    expect(memory.idsChecked).toBe(true)
    for (const c of sealed.chunks) await memory.put(c.index, c.bytes)
    const out = join(dir.path, 'm.nii')
    expect(await writeDecrypted(memory.read, manifest, key, out, { idsChecked: memory.idsChecked })).toBe(data.length)
    expect(new Uint8Array(await readFile(out))).toEqual(data)

    const files = await fileDownloads(join(dir.path, 'dl'))
    expect(files.idsChecked).toBe(false)
    for (const c of sealed.chunks) await files.put(c.index, c.bytes)
    // A chunk file altered on disk after its check: hashed again, refused, and no output appears.
    const altered = new Uint8Array(await readFile(join(dir.path, 'dl', 'chunk-1')))
    altered[5] = (altered[5] as number) ^ 1
    await writeFile(join(dir.path, 'dl', 'chunk-1'), altered)
    const out2 = join(dir.path, 'f.nii')
    await expect(writeDecrypted(files.read, manifest, key, out2, { idsChecked: files.idsChecked })).rejects.toMatchObject({ name: 'ChunkIdMismatchError' })
    await expect(stat(out2)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
