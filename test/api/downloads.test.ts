import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileDownloads, memoryDownloads, writeDecrypted } from '../../src/api/downloads.js'
import { buildManifest, generateDataKey, sealPayload } from '../../src/privacy/payload/index.js'
import { ImageCache } from '../../src/cache/images.js'
import { fixture, logger } from '../cache/helpers.js'
import { tempDir } from '../helpers/tmp.js'
import { joined } from '../../src/codec/pieces.js'

const removers: Array<() => Promise<void>> = []
afterEach(async () => { await Promise.all(removers.splice(0).map(async r => { await r() })) })

describe('where a download keeps its sealed chunks', () => {
  it('in memory: a read waits for its chunk, lets it go, and the chunk still counts as held', async () => {
    const d = memoryDownloads()
    const waiting = d.read(1)
    const arrived = [Uint8Array.of(1, 2), Uint8Array.of(3)]
    await d.put(0, [Uint8Array.of(0)])
    await d.put(1, arrived)
    // The very pieces the transfer checked, not a copy.
    expect(await waiting).toBe(arrived)
    expect([...joined(await d.read(0))]).toEqual([0])
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
    await first.put(2, [Uint8Array.of(7, 8)])
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
    // As a transfer hands them over: in pieces, one of them cut inside the tag.
    const cut = (b: Uint8Array): Uint8Array[] => [b.subarray(0, 7), b.subarray(7, b.length - 9), b.subarray(b.length - 9)]
    for (const c of sealed.chunks) await memory.put(c.index, cut(c.bytes))
    const out = join(dir.path, 'm.nii')
    expect(await writeDecrypted(memory.read, manifest, key, out, { idsChecked: memory.idsChecked })).toBe(data.length)
    expect(new Uint8Array(await readFile(out))).toEqual(data)

    const files = await fileDownloads(join(dir.path, 'dl'))
    expect(files.idsChecked).toBe(false)
    for (const c of sealed.chunks) await files.put(c.index, cut(c.bytes))
    // A chunk file altered on disk after its check: hashed again, refused, and no output appears.
    const altered = new Uint8Array(await readFile(join(dir.path, 'dl', 'chunk-1')))
    altered[5] = (altered[5] as number) ^ 1
    await writeFile(join(dir.path, 'dl', 'chunk-1'), altered)
    const out2 = join(dir.path, 'f.nii')
    await expect(writeDecrypted(files.read, manifest, key, out2, { idsChecked: files.idsChecked })).rejects.toMatchObject({ name: 'ChunkIdMismatchError' })
    await expect(stat(out2)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('hands a complete download to the image cache: bytes kept in memory, chunk files moved', async () => {
    const f = await fixture()
    const cache = new ImageCache({ directory: join(f.root, 'images'), level: f.level(), logger, limits: { maxBytes: 1_000_000 } })
    removers.push(async () => { await cache.close(); await f.remove() })
    await cache.open()
    const manifest = Uint8Array.of(1, 2, 3)

    const memory = memoryDownloads({ keep: true })
    await memory.put(1, [Uint8Array.of(11)])
    await memory.put(0, [Uint8Array.of(10)])
    // Read (and so let go of by the reader) before the copy: still kept.
    await memory.read(0)
    await cache.put('lfn-m', 1, { manifest, chunks: memory.keep(2) })
    const m = await cache.get('lfn-m', 1)
    expect([...await readFile(m?.chunkPath('0') as string)]).toEqual([10])
    expect([...await readFile(m?.chunkPath('1') as string)]).toEqual([11])
    m?.release()
    // Not made to keep: nothing to hand over.
    expect(() => memoryDownloads().keep(1)).toThrow('not kept')

    const folder = join(f.root, 'dl')
    const files = await fileDownloads(folder)
    await files.put(0, [Uint8Array.of(20)])
    await files.put(1, [Uint8Array.of(21)])
    await cache.put('lfn-f', 1, { manifest, chunks: files.keep(2) })
    // Moved, not copied: the download folder is empty.
    expect(await readdir(folder)).toEqual([])
    const e = await cache.get('lfn-f', 1)
    expect([...await readFile(e?.chunkPath('1') as string)]).toEqual([21])
    e?.release()
  })
})
