import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DataKeys, keyIdOf } from '../../src/imaging/keystore.js'
import { generateDataKey } from '../../src/privacy/payload/index.js'
import { tempDir } from '../helpers/tmp.js'

describe('DataKeys.delete', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let db: Level<string, Uint8Array>
  let keys: DataKeys
  beforeEach(async () => {
    tmp = await tempDir()
    db = new Level<string, Uint8Array>(tmp.path, { valueEncoding: 'view' })
    keys = new DataKeys(db.sublevel<string, Uint8Array>('data-keys', { valueEncoding: 'view' }))
  })
  afterEach(async () => {
    await db.close()
    await tmp.remove()
  })

  it('removes the key a rollback names by its id, and only that one', async () => {
    const dataKey = generateDataKey()
    const contentId = 'ab'.repeat(32)
    await keys.put('lfn-1', 3, { dataKey, contentId })
    expect(keyIdOf(dataKey)).toMatch(/^[0-9a-f]{64}$/)
    expect(keyIdOf(dataKey)).not.toContain(Buffer.from(dataKey).toString('hex'))
    // Another preparation's key (another data key, or another version) stays.
    await keys.delete('lfn-1', 3, { keyId: keyIdOf(generateDataKey()) })
    await keys.delete('lfn-1', 4, { keyId: keyIdOf(dataKey) })
    expect(await keys.get('lfn-1', 3)).toEqual({ dataKey, contentId })
    await keys.delete('lfn-1', 3, { keyId: keyIdOf(dataKey) })
    expect(await keys.get('lfn-1', 3)).toBeUndefined()
    // Idempotent.
    await keys.delete('lfn-1', 3, { keyId: keyIdOf(dataKey) })
  })

  it('still honours a journal written before key ids, which names the content sealed', async () => {
    const dataKey = generateDataKey()
    await keys.put('lfn-2', 1, { dataKey, contentId: 'cd'.repeat(32) })
    await keys.delete('lfn-2', 1, { contentId: 'ef'.repeat(32) })
    expect(await keys.get('lfn-2', 1)).toBeDefined()
    await keys.delete('lfn-2', 1, { contentId: 'cd'.repeat(32) })
    expect(await keys.get('lfn-2', 1)).toBeUndefined()
  })
})
