import { stat } from 'node:fs/promises'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { instanceKeyOf, isLfn, lfnOf, loadOrCreateSiteSecret } from '../../src/registry/index.js'
import { tempDir } from '../helpers/tmp.js'

const uid = fc.array(fc.integer({ min: 0, max: 999999 }), { minLength: 3, maxLength: 10 }).map(a => '1.' + a.join('.'))

describe('LFNs', () => {
  let tmp: { path: string, remove: () => Promise<void> } | undefined
  afterEach(async () => { await tmp?.remove() })

  it('are stable, opaque, keyed by the site secret', () => {
    const a = new Uint8Array(32).fill(1)
    const b = new Uint8Array(32).fill(2)
    fc.assert(fc.property(uid, uid, (u1, u2) => {
      const l = lfnOf(a, u1)
      expect(isLfn(l)).toBe(true)
      expect(l).toBe(lfnOf(a, u1))
      expect(l).not.toBe(lfnOf(b, u1))
      expect(l.includes(u1)).toBe(false)
      if (u1 !== u2) expect(lfnOf(a, u2)).not.toBe(l)
      expect(instanceKeyOf(a, u1)).toMatch(/^[0-9a-f]{32}$/)
      expect(instanceKeyOf(a, u1)).not.toBe(instanceKeyOf(b, u1))
    }), { numRuns: 200 })
  })

  it('keeps the site secret in a 0600 file, created once', async () => {
    tmp = await tempDir()
    const path = join(tmp.path, 'registry.key')
    const first = await loadOrCreateSiteSecret(path)
    expect(first).toHaveLength(32)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateSiteSecret(path)).toEqual(first)
    await writeFile(path, 'short')
    await expect(loadOrCreateSiteSecret(path)).rejects.toMatchObject({ name: 'SiteSecretError' })
  })
})
