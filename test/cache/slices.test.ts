import { writeFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SliceCache } from '../../src/cache/slices.js'
import { bytes, errorOf, fixture, listing, logger, type Fixture } from './helpers.js'

describe('SliceCache (layer 3)', () => {
  let f: Fixture
  let c: SliceCache
  beforeEach(async () => {
    f = await fixture()
    c = new SliceCache({ directory: join(f.root, 'slices'), level: f.level(), logger, limits: { maxBytes: 10_000, maxEntryBytes: 2000 } })
    await c.open()
  })
  afterEach(async () => {
    await c.close()
    await f.remove()
  })

  it('moves DICOM files in by SOP Instance UID and tells what is missing', async () => {
    const src = join(f.root, 'in.dcm')
    await writeFile(src, bytes(500, 4))
    await c.put('1.2.840.10008.1.1', { path: src }, { meta: { lfn: 'lfn-1' } })
    await c.put('1.2.840.10008.1.2', bytes(300, 5))
    await expect(stat(src)).rejects.toHaveProperty('code', 'ENOENT')
    expect(c.missing(['1.2.840.10008.1.1', '1.2.840.10008.1.2', '1.2.840.10008.1.3'])).toEqual(['1.2.840.10008.1.3'])
    const lease = await c.get('1.2.840.10008.1.1')
    expect(lease).toMatchObject({ size: 500, meta: { lfn: 'lfn-1' } })
    // The file name never carries the UID.
    expect(lease?.path).not.toContain('1.2.840')
    lease?.release()
    const stream = await c.createReadStream('1.2.840.10008.1.2')
    expect(stream === undefined ? undefined : new Uint8Array(await buffer(stream))).toEqual(bytes(300, 5))
    expect(await c.delete(['1.2.840.10008.1.2'])).toBe(1)
    expect(await listing(c.store.directory)).toHaveLength(1)
  })

  it('rejects malformed UIDs and oversized slices, changing nothing', async () => {
    for (const uid of ['', '1..2', '1.2.a', '.1', '1.'.repeat(40) + '1']) {
      expect((await errorOf(c.put(uid, bytes(1)))).name).toBe('CacheKeyError')
    }
    const src = join(f.root, 'big.dcm')
    await writeFile(src, bytes(2001))
    expect((await errorOf(c.put('1.2.3', { path: src }))).name).toBe('CacheEntryTooLargeError')
    expect((await stat(src)).size).toBe(2001)
    expect(c.stats().entries).toBe(0)
  })
})
