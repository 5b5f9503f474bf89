import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SliceStore } from '../../src/dicom/index.js'
import { RESERVE_FILES, RESERVE_SUFFIX, SYNC_AHEAD_BYTES } from '../../src/dicom/constants.js'
import { waitFor } from '../helpers/wait.js'
import { tempDir } from '../helpers/tmp.js'

describe('slice store', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  beforeEach(async () => { tmp = await tempDir() })
  afterEach(async () => { await tmp.remove() })

  it('commits atomically, and removes temporary files left by a crash', async () => {
    const store = new SliceStore({ dir: tmp.path, maxInstanceBytes: 1 << 20 })
    await store.init()
    await writeFile(join(store.tempDir, 'left-by-crash.part'), 'half')
    expect(await store.init()).toBe(1)
    const temp = store.createTemp(new Uint8Array([1, 2]))
    for (let i = 0; i < 40; i++) temp.write(new Uint8Array(10_000).fill(i))
    expect(await store.temps()).toHaveLength(1)
    const { path, durable } = await store.commit(temp, 'aaaa/bbbb.dcm')
    await durable
    expect(path).toBe(store.absolute('aaaa/bbbb.dcm'))
    // Flushed ahead while written (past SYNC_AHEAD_BYTES), every byte in place.
    const stored = await readFile(path)
    expect(stored.length).toBe(2 + 40 * 10_000)
    expect([stored[0], stored[1], stored[2], stored[2 + 39 * 10_000]]).toEqual([1, 2, 0, 39])
    expect(await store.temps()).toEqual([])
    expect(await store.list()).toEqual(['aaaa/bbbb.dcm'])
    expect(() => store.absolute('../../etc/passwd')).toThrow(RangeError)
  })

  it('drops writes past the size limit and reports why', async () => {
    const store = new SliceStore({ dir: tmp.path, maxInstanceBytes: 100, sync: false })
    await store.init()
    const temp = store.createTemp()
    temp.write(new Uint8Array(60))
    temp.write(new Uint8Array(60))
    expect(temp.size).toBe(60)
    expect(temp.error?.message).toMatch(/larger than 100 bytes/)
    await temp.discard()
    // Only the spare file created ahead for the next instance remains, and close() removes it.
    expect(await store.temps()).toEqual([])
    await store.close()
    expect((await readdir(store.tempDir, { recursive: true })).filter(f => f.endsWith('.part'))).toEqual([])
  })

  it('holds what a held temporary file is written in memory, within its limit and only while every write succeeded', async () => {
    const store = new SliceStore({ dir: tmp.path, maxInstanceBytes: 1000, sync: false })
    await store.init()
    const held = store.createTemp(new Uint8Array([9, 8]), { holdBytes: 100 })
    held.write(new Uint8Array(30).fill(1))
    held.write(new Uint8Array(20).fill(2))
    const bytes = held.held()
    expect(bytes).toBeDefined()
    expect(held.held()).toBe(bytes)
    const { path } = await store.commit(held, 'h/0.dcm')
    // The same bytes as the file.
    expect(Buffer.from(bytes ?? new Uint8Array())).toEqual(await readFile(path))
    // Past the limit: nothing held (the file itself is whole).
    const big = store.createTemp(new Uint8Array([1]), { holdBytes: 100 })
    big.write(new Uint8Array(60))
    big.write(new Uint8Array(60))
    expect(big.size).toBe(121)
    expect(big.held()).toBeUndefined()
    await big.discard()
    // A failed write (past maxInstanceBytes): nothing held either.
    const failed = store.createTemp(undefined, { holdBytes: 5000 })
    failed.write(new Uint8Array(600))
    failed.write(new Uint8Array(600))
    expect(failed.error).toBeDefined()
    expect(failed.held()).toBeUndefined()
    await failed.discard()
    // Not asked to hold: nothing held.
    const plain = store.createTemp(new Uint8Array([1]))
    expect(plain.held()).toBeUndefined()
    await plain.discard()
    await store.close()
  })

  it('commits concurrently, one flush per file', async () => {
    const store = new SliceStore({ dir: tmp.path, maxInstanceBytes: 1 << 20 })
    await store.init()
    const commits = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const t = store.createTemp(new Uint8Array([i]))
      return await store.commit(t, `series/${i}.dcm`)
    }))
    await Promise.all(commits.map(async c => { await c.durable }))
    expect((await store.list()).length).toBe(20)
  })

  it('discards a file whose flush ahead is still running, and commits an imported copy durably', async () => {
    const store = new SliceStore({ dir: tmp.path, maxInstanceBytes: 1 << 24 })
    await store.init()
    const temp = store.createTemp()
    for (let i = 0; i < 8; i++) temp.write(new Uint8Array(SYNC_AHEAD_BYTES).fill(i))
    await temp.discard()
    expect(temp.error).toBeUndefined()
    expect(await store.temps()).toEqual([])
    const source = join(tmp.path, 'outside.dcm')
    await writeFile(source, new Uint8Array(1000).fill(9))
    const copy = await store.copyToTemp(source)
    const { path, durable } = await store.commit(copy, 'cccc/dddd.dcm')
    await durable
    expect((await readFile(path)).equals(Buffer.alloc(1000, 9))).toBe(true)
    expect(await store.temps()).toEqual([])
    await store.close()
  })

  it('keeps a reserve of empty files that arriving instances open instead of creating files, topped up once idle, kept across a restart', async () => {
    const store = new SliceStore({ dir: tmp.path, maxInstanceBytes: 1 << 20, sync: false })
    await store.init()
    await waitFor(() => store.reserved === RESERVE_FILES, 20_000, 'the reserve to fill')
    const reserveFiles = async (): Promise<string[]> => (await readdir(store.tempDir, { recursive: true })).filter(f => f.endsWith(RESERVE_SUFFIX))
    expect(await reserveFiles()).toHaveLength(RESERVE_FILES)
    expect(await store.temps()).toEqual([])
    // Each instance opens a file of the reserve (nothing created, no spare needed while it lasts).
    const first = store.createTemp(new Uint8Array([1]))
    expect(first.path.endsWith(RESERVE_SUFFIX)).toBe(true)
    expect(store.reserved).toBe(RESERVE_FILES - 1)
    await store.commit(first, 's/0.dcm')
    const second = store.createTemp(new Uint8Array([2]))
    expect(second.path.endsWith(RESERVE_SUFFIX)).toBe(true)
    expect(store.reserved).toBe(RESERVE_FILES - 2)
    expect(await store.temps()).toEqual([relative(store.tempDir, second.path)])
    await store.commit(second, 's/1.dcm')
    expect((await readFile(store.absolute('s/1.dcm')))[0]).toBe(2)
    // Topped up again once nothing arrives.
    await waitFor(() => store.reserved === RESERVE_FILES, 20_000, 'the reserve to be topped up')
    // A reserve file holding bytes (taken by an instance before a crash) is dropped at start; the empty ones stay.
    const third = store.createTemp(new Uint8Array([3]))
    expect(third.path.endsWith(RESERVE_SUFFIX)).toBe(true)
    await store.close()
    const kept = store.reserved
    expect(kept).toBeGreaterThan(0)
    await writeFile(join(store.tempDir, '0', `crashed${RESERVE_SUFFIX}`), 'half an instance')
    const again = new SliceStore({ dir: tmp.path, maxInstanceBytes: 1 << 20, sync: false })
    // The crashed one and `third`, never committed.
    expect(await again.init()).toBe(2)
    expect(again.reserved).toBe(kept)
    expect(await again.temps()).toEqual([])
    await again.close()
  })
})
