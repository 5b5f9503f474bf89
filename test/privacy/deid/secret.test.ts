import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadOrCreateSecretFile, parseSecret, readSecretFile } from '../../../src/privacy/deid/secret.js'
import { parsePixelRules } from '../../../src/privacy/deid/index.js'
import { tempDir } from '../../helpers/tmp.js'

describe('site secret file', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeEach(async () => { dir = await tempDir('dm2-deid-secret-') })
  afterEach(async () => { await dir.remove() })

  it('reads hex or raw random bytes, and refuses short or passphrase-like content', () => {
    expect(parseSecret(new TextEncoder().encode('0f'.repeat(32) + '\n'))).toEqual(new Uint8Array(32).fill(15))
    const raw = new Uint8Array(40).map((_, i) => (i * 97 + 200) & 0xff)
    expect(parseSecret(raw)).toEqual(raw)
    for (const bad of ['0f'.repeat(31), 'correct horse battery staple and more words', '']) {
      expect(() => parseSecret(new TextEncoder().encode(bad))).toThrow(expect.objectContaining({ name: 'DeidSecretError' }))
    }
  })

  it('creates a 0600 secret once and reads the same one afterwards', async () => {
    const path = join(dir.path, 'site.secret')
    const first = await loadOrCreateSecretFile(path)
    expect(first.created).toBe(true)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const second = await loadOrCreateSecretFile(path)
    expect(second.created).toBe(false)
    expect(second.secret).toEqual(first.secret)
    expect(await readSecretFile(path)).toEqual(first.secret)
    await expect(readSecretFile(join(dir.path, 'missing'))).rejects.toMatchObject({ name: 'DeidSecretError' })
    await writeFile(join(dir.path, 'short'), 'abcd')
    await expect(readSecretFile(join(dir.path, 'short'))).rejects.toMatchObject({ name: 'DeidSecretError' })
  })
})

describe('pixel-rules file', () => {
  it('builds rules that match only the images they name', () => {
    const [rule] = parsePixelRules([{ name: 'us-banner', match: { modality: 'us', rows: 600 }, rectangles: [{ x: 0, y: 0, width: 10, height: 10 }] }])
    const image = {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.6.1',
      modality: 'US',
      manufacturer: 'ACME',
      modelName: 'X',
      rows: 600,
      columns: 800,
      samplesPerPixel: 1,
      bitsAllocated: 8,
      numberOfFrames: 1,
      planarConfiguration: 0,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      encapsulated: false,
      littleEndian: true
    }
    expect(rule?.name).toBe('us-banner')
    expect(rule?.matches(image)).toBe(true)
    expect(rule?.matches({ ...image, rows: 480 })).toBe(false)
    expect(rule?.matches({ ...image, encapsulated: true })).toBe(false)
    expect(() => parsePixelRules([{ name: 'all', match: {}, rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] }])).toThrow()
    expect(() => parsePixelRules([{ name: 'bad', match: { rows: 1 }, rectangles: [], extra: 1 }])).toThrow()
  })
})
