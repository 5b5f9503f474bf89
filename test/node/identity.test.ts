import { chmod, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadOrCreateIdentity, readIdentity } from '../../src/node/identity.js'
import { tempDir } from '../helpers/tmp.js'

describe('node identity', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => { await dir.remove() })

  it('creates an Ed25519 key readable by its owner only, and reuses it', async () => {
    const file = join(dir.path, 'nested', 'identity.key')
    const first = await loadOrCreateIdentity(file)
    expect(first.created).toBe(true)
    expect(first.privateKey.type).toBe('Ed25519')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const second = await loadOrCreateIdentity(file)
    expect(second.created).toBe(false)
    expect(second.peerId.equals(first.peerId)).toBe(true)
    // No temp file left behind.
    expect(await readdir(join(dir.path, 'nested'))).toEqual(['identity.key'])
  })

  it('refuses a key file that others can read', async () => {
    const file = join(dir.path, 'identity.key')
    await loadOrCreateIdentity(file)
    await chmod(file, 0o644)
    await expect(readIdentity(file)).rejects.toMatchObject({ name: 'IdentityError' })
    await expect(loadOrCreateIdentity(file)).rejects.toThrow(/too open/)
  })

  it('refuses a corrupt key file instead of replacing it', async () => {
    const file = join(dir.path, 'identity.key')
    await writeFile(file, 'not a key', { mode: 0o600 })
    await expect(loadOrCreateIdentity(file)).rejects.toMatchObject({ name: 'IdentityError' })
    expect((await stat(file)).size).toBe(9)
  })

  it('two concurrent first starts agree on one key', async () => {
    const file = join(dir.path, 'identity.key')
    const results = await Promise.allSettled([loadOrCreateIdentity(file), loadOrCreateIdentity(file)])
    const onDisk = await readIdentity(file)
    for (const r of results) {
      expect(r.status).toBe('fulfilled')
      if (r.status === 'fulfilled') expect(r.value.peerId.equals(onDisk.peerId)).toBe(true)
    }
  })
})
