import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  WRAPPED_KEY_BYTES, generateDataKey, generateEd25519Signer, generateRecipientKeyPair, readPrivateKeyFile,
  recipientPublicKey, unwrapDataKey, wrapDataKey, writePrivateKeyFile
} from '../../../src/privacy/payload/index.js'
import { tempDir } from '../../helpers/tmp.js'
import { failure } from './helpers.js'

const alice = generateRecipientKeyPair()
const mallory = generateRecipientKeyPair()

describe('HPKE key wrapping (RFC 9180)', () => {
  it('a wrapped key opens only with the recipient key, for that file and version', async () => {
    const fileArb = fc.record({ fileId: fc.string({ minLength: 1, maxLength: 64 }).filter(s => !s.includes('\u0000')), version: fc.nat() })
    await fc.assert(fc.asyncProperty(fileArb, fileArb, async (file, otherFile) => {
      fc.pre(file.fileId !== otherFile.fileId || file.version !== otherFile.version)
      const dataKey = generateDataKey()
      const wrapped = await wrapDataKey(dataKey, alice.publicKey, file)
      expect(wrapped.length).toBe(WRAPPED_KEY_BYTES)
      expect(await unwrapDataKey(wrapped, alice.privateKey, file)).toEqual(dataKey)
      expect(await failure(async () => await unwrapDataKey(wrapped, mallory.privateKey, file))).toBe('KeyUnwrapError')
      expect(await failure(async () => await unwrapDataKey(wrapped, alice.privateKey, otherFile))).toBe('KeyUnwrapError')
      expect(await failure(async () => await unwrapDataKey(wrapped, alice.privateKey, { ...file, version: file.version + 1 }))).toBe('KeyUnwrapError')
    }), { numRuns: 15 })
  })

  it('flipping any bit of a wrapped key fails', async () => {
    const file = { fileId: 'lfn:1', version: 3 }
    const dataKey = generateDataKey()
    const wrapped = await wrapDataKey(dataKey, alice.publicKey, file)
    await fc.assert(fc.asyncProperty(fc.nat(WRAPPED_KEY_BYTES * 8 - 1), async (bit) => {
      const flipped = wrapped.map((b, k) => k === bit >> 3 ? b ^ (1 << (bit & 7)) : b)
      expect(await failure(async () => await unwrapDataKey(flipped, alice.privateKey, file))).toBe('KeyUnwrapError')
    }), { numRuns: 25 })
    expect(await failure(async () => await unwrapDataKey(wrapped.subarray(1), alice.privateKey, file))).toBe('KeyUnwrapError')
  })

  it('wrapping twice gives different ciphertexts (fresh ephemeral key)', async () => {
    const dataKey = generateDataKey()
    const file = { fileId: 'lfn:1', version: 1 }
    const a = await wrapDataKey(dataKey, alice.publicKey, file)
    const b = await wrapDataKey(dataKey, alice.publicKey, file)
    expect(a).not.toEqual(b)
  })

  it('refuses bad parameters with typed errors', async () => {
    const file = { fileId: 'lfn:1', version: 1 }
    expect(await failure(async () => await wrapDataKey(new Uint8Array(16), alice.publicKey, file))).toBe('PayloadParameterError')
    expect(await failure(async () => await wrapDataKey(generateDataKey(), new Uint8Array(31), file))).toBe('KeyWrapError')
    expect(await failure(async () => await wrapDataKey(generateDataKey(), alice.publicKey, { fileId: '', version: 1 }))).toBe('PayloadParameterError')
    expect(await failure(async () => await wrapDataKey(generateDataKey(), alice.publicKey, { fileId: 'x', version: -1 }))).toBe('PayloadParameterError')
  })

  it('derives the public key from the private key', () => {
    expect(recipientPublicKey(alice.privateKey)).toEqual(alice.publicKey)
    expect(alice.publicKey).not.toEqual(mallory.publicKey)
    // A new pair's public half is the one its private key derives.
    for (let i = 0; i < 16; i++) {
      const pair = generateRecipientKeyPair()
      expect(pair.publicKey).toHaveLength(32)
      expect(recipientPublicKey(pair.privateKey)).toEqual(pair.publicKey)
    }
  })
})

describe('key files', () => {
  let dir: { path: string, remove: () => Promise<void> }
  beforeAll(async () => { dir = await tempDir() })
  afterAll(async () => { await dir.remove() })

  it('writes PKCS#8 PEM with mode 0600 and reads it back', async () => {
    const file = join(dir.path, 'keys', 'recipient.pem')
    await writePrivateKeyFile(file, alice.privateKey, 'x25519')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(await readPrivateKeyFile(file, 'x25519')).toEqual(alice.privateKey)
    expect(await failure(async () => await writePrivateKeyFile(file, mallory.privateKey, 'x25519'))).toBe('KeyFileError')
    expect(await readPrivateKeyFile(file, 'x25519')).toEqual(alice.privateKey)
  })

  it('refuses a key file others can read, of another type, or not a key', async () => {
    const file = join(dir.path, 'open.pem')
    await writePrivateKeyFile(file, alice.privateKey, 'x25519')
    await chmod(file, 0o644)
    expect(await failure(async () => await readPrivateKeyFile(file, 'x25519'))).toBe('KeyFileError')
    const signing = join(dir.path, 'signing.pem')
    const { seed } = generateEd25519Signer()
    await writePrivateKeyFile(signing, seed, 'ed25519')
    expect(await readPrivateKeyFile(signing, 'ed25519')).toEqual(seed)
    expect(await failure(async () => await readPrivateKeyFile(signing, 'x25519'))).toBe('KeyFileError')
    const junk = join(dir.path, 'junk.pem')
    await writeFile(junk, 'not a key', { mode: 0o600 })
    expect(await failure(async () => await readPrivateKeyFile(junk, 'x25519'))).toBe('KeyFileError')
    expect(await failure(async () => await readPrivateKeyFile(join(dir.path, 'missing.pem'), 'x25519'))).toBe('KeyFileError')
  })
})
