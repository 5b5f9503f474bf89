/** User key files: private modes, atomic no-clobber creation, strict loading. */
import { chmod, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createKeyFile, generateSigner, listKeyFiles, loadKeyFile, resolveKeyFile, verifySignature
} from '../../src/sac/index.js'
import { tempDir } from '../helpers/tmp.js'

let dir: Awaited<ReturnType<typeof tempDir>>
let keys: string
beforeEach(async () => {
  dir = await tempDir()
  keys = join(dir.path, 'keys')
})
afterEach(async () => { await dir.remove() })

async function failure (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`
  }
  return 'OK'
}

describe('key files', () => {
  it('creates a 0600 file in a 0700 folder and loads a working signer from it', async () => {
    const created = await createKeyFile(keys, { label: 'alice-clinic' })
    expect(created.path).toBe(join(keys, 'alice-clinic.json'))
    expect((await stat(created.path)).mode & 0o777).toBe(0o600)
    expect((await stat(keys)).mode & 0o777).toBe(0o700)
    const loaded = await loadKeyFile(created.path)
    expect(loaded.publicKey).toBe(created.publicKey)
    expect(loaded.label).toBe('alice-clinic')
    const message = new TextEncoder().encode('hello')
    expect(verifySignature(loaded.signer.sign(message), message, created.signer.publicKey)).toBe(true)
    // Nothing left behind by the atomic write.
    expect(await readdir(keys)).toEqual(['alice-clinic.json'])
  })

  it('keeps several keys per person, lists them without seeds, and never overwrites one', async () => {
    const a = await createKeyFile(keys, { label: 'alice-research' })
    const b = await createKeyFile(keys, { label: 'alice-clinic' })
    const c = await createKeyFile(keys)
    expect(new Set([a.publicKey, b.publicKey, c.publicKey]).size).toBe(3)
    expect(c.label).toBe(`key-${c.publicKey.slice(0, 12)}`)
    const before = await readFile(a.path, 'utf8')
    expect(await failure(createKeyFile(keys, { label: 'alice-research' }))).toMatch(/^KeyFileError: .*already exists/)
    expect(await readFile(a.path, 'utf8')).toBe(before)
    const { keys: listed, problems } = await listKeyFiles(keys)
    expect(problems).toEqual([])
    expect(listed.map(k => k.label)).toEqual(['alice-clinic', 'alice-research', c.label])
    const seed = Buffer.from(a.signer.seed).toString('base64')
    expect(JSON.stringify(listed)).not.toContain(seed)
    expect((await listKeyFiles(join(dir.path, 'none'))).keys).toEqual([])
  })

  it('refuses files others can read or write, and lists them as problems', async () => {
    const k = await createKeyFile(keys, { label: 'exposed' })
    for (const mode of [0o640, 0o604, 0o620, 0o660]) {
      await chmod(k.path, mode)
      expect(await failure(loadKeyFile(k.path))).toMatch(/^InsecureKeyFileError: .*chmod 600/)
    }
    const { keys: listed, problems } = await listKeyFiles(keys)
    expect(listed).toEqual([])
    expect(problems.map(p => p.path)).toEqual([k.path])
    await chmod(k.path, 0o400)
    expect((await loadKeyFile(k.path)).publicKey).toBe(k.publicKey)
  })

  it('refuses malformed, mismatched and symlinked key files', async () => {
    const k = await createKeyFile(keys, { label: 'real' })
    const json = JSON.parse(await readFile(k.path, 'utf8')) as Record<string, unknown>
    const write = async (name: string, text: string): Promise<string> => {
      const path = join(keys, name)
      await writeFile(path, text, { mode: 0o600 })
      return path
    }
    expect(await failure(loadKeyFile(await write('a.json', 'not json')))).toMatch(/^KeyFileError: .*not JSON/)
    expect(await failure(loadKeyFile(await write('b.json', JSON.stringify({ ...json, publicKey: generateSigner().publicKey.reduce((s, b) => s + b.toString(16).padStart(2, '0'), '') }))))).toMatch(/does not match/)
    expect(await failure(loadKeyFile(await write('c.json', JSON.stringify({ ...json, seed: 'AAAA' }))))).toMatch(/32 bytes/)
    expect(await failure(loadKeyFile(await write('d.json', JSON.stringify({ ...json, format: 'ssh' }))))).toMatch(/not a dm2-key/)
    await symlink(k.path, join(keys, 'link.json'))
    expect(await failure(loadKeyFile(join(keys, 'link.json')))).toMatch(/symbolic link/)
    expect(await failure(loadKeyFile(join(keys, 'missing.json')))).toMatch(/^KeyFileError: no key file/)
  })

  it('resolves a key by label, public-key prefix or path', async () => {
    const k = await createKeyFile(keys, { label: 'bob' })
    expect((await resolveKeyFile(keys, 'bob')).publicKey).toBe(k.publicKey)
    expect((await resolveKeyFile(keys, k.publicKey.slice(0, 10))).label).toBe('bob')
    expect((await resolveKeyFile(dir.path, k.path)).label).toBe('bob')
    expect(await failure(resolveKeyFile(keys, 'carol'))).toMatch(/^KeyFileError: no key "carol"/)
    expect(await failure(createKeyFile(keys, { label: '../escape' }))).toMatch(/invalid key label/)
  })
})
