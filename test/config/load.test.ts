import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_DICOM_AE_TITLE, DEFAULT_DICOM_PORT, DEFAULT_LISTEN, DEFAULT_LOG_LEVEL, loadConfig } from '../../src/config/index.js'
import { tempDir } from '../helpers/tmp.js'

const PEER_A = '12D3KooWJyZSS6f4qu4RYgYKDsSUinbsqzWDkHSJ7JqDVmhim316'
const PEER_B = '12D3KooWCnyfg41tm3eVwVERMMDJt7atuPVu9bWJEFkBqtdab5hS'

describe('loadConfig', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let file: string

  beforeEach(async () => {
    dir = await tempDir()
    file = join(dir.path, 'dm2.json')
  })
  afterEach(async () => { await dir.remove() })

  const write = async (value: unknown): Promise<void> => { await writeFile(file, JSON.stringify(value)) }

  it('fills defaults and resolves dataDir against the config file', async () => {
    await write({ name: 'Hospital A' })
    const config = await loadConfig({ file, env: {} })
    expect(config.name).toBe('Hospital A')
    expect(config.dataDir).toBe(dir.path)
    expect(config.listen).toEqual(DEFAULT_LISTEN)
    expect(config.dicom).toEqual({ aeTitle: DEFAULT_DICOM_AE_TITLE, host: '127.0.0.1', port: DEFAULT_DICOM_PORT })
    expect(config.log.level).toBe(DEFAULT_LOG_LEVEL)
    expect(config.pacs).toBeUndefined()
    expect(config.configFile).toBe(file)
  })

  it('lets environment variables override the file, and flags override both', async () => {
    await write({ name: 'A', dicom: { port: 104 }, members: [PEER_A] })
    const env = { DM2_DICOM_PORT: '11113', DM2_MEMBERS: `${PEER_A}, ${PEER_B}`, DM2_DATA_DIR: 'elsewhere', DM2_CONFIG: 'ignored' }
    const config = await loadConfig({
      file,
      env,
      overrides: [{ path: ['dicom', 'port'], value: 11114, source: 'flag --dicom-port' }]
    })
    expect(config.dicom.port).toBe(11114)
    expect(config.members).toEqual([PEER_A, PEER_B])
    expect(config.dataDir).toBe(join(dir.path, 'elsewhere'))
  })

  it('reads cache budgets as bytes or with a binary unit, and names a bad one', async () => {
    await write({ name: 'A', cache: { images: '8 GiB', copies: '512MiB', slices: '2 TiB', results: 1048576 } })
    const config = await loadConfig({ file, env: {} })
    expect(config.cache).toEqual({ images: 8 * 2 ** 30, copies: 512 * 2 ** 20, slices: 2 * 2 ** 40, results: 1048576 })
    await write({ name: 'A', cache: { results: '1.5 KiB' } })
    expect((await loadConfig({ file, env: {} })).cache).toEqual({ results: 1536 })
    await write({ name: 'A' })
    expect((await loadConfig({ file, env: {} })).cache).toEqual({})
    for (const [value, field] of [['8 GB', 'cache.images'], [-1, 'cache.images'], [1.5, 'cache.images'], ['lots', 'cache.images']] as const) {
      await write({ name: 'A', cache: { images: value } })
      await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ name: 'ConfigError', field })
    }
    await write({ name: 'A', cache: { image: '1 GiB' } })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ name: 'ConfigError', field: 'cache.image' })
  })

  it('names the file and the field of an invalid value', async () => {
    await write({ name: 'A', dicom: { port: 70000 } })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ name: 'ConfigError', source: file, field: 'dicom.port' })
  })

  it('names an unknown field', async () => {
    await write({ name: 'A', bootstrapp: [] })
    const err = await loadConfig({ file, env: {} }).catch(e => e)
    expect(err).toMatchObject({ name: 'ConfigError', field: 'bootstrapp' })
    expect(err.message).toContain(file)
    expect(err.message).toContain('unknown field')
  })

  it('names the index of a bad list element', async () => {
    await write({ name: 'A', members: [PEER_A, 'not-a-peer'] })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ field: 'members[1]' })
    await write({ name: 'A', listen: ['/ip4/127.0.0.1/udp/1'] })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ field: 'listen[0]' })
  })

  it('requires bootstrap peers to be members', async () => {
    await write({ name: 'A', members: [PEER_A], bootstrap: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER_B}`] })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ field: 'bootstrap[0]' })
  })

  it('requires a name and rejects a blank AE title', async () => {
    await write({})
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ field: 'name' })
    await write({ name: 'A', dicom: { aeTitle: '   ' } })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ field: 'dicom.aeTitle' })
    await write({ name: 'A', dicom: { aeTitle: 'WAY_TOO_LONG_AE_TITLE' } })
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ field: 'dicom.aeTitle' })
  })

  it('names the environment variable or flag that set a bad value', async () => {
    await write({ name: 'A' })
    await expect(loadConfig({ file, env: { DM2_LOG_LEVEL: 'loud' } }))
      .rejects.toMatchObject({ name: 'ConfigError', source: 'environment DM2_LOG_LEVEL', field: 'log.level' })
    await expect(loadConfig({ file, env: { DM2_DICOM_PORT: 'eighty' } }))
      .rejects.toMatchObject({ source: 'environment DM2_DICOM_PORT' })
    await expect(loadConfig({ file, env: {}, overrides: [{ path: ['listen'], value: ['nope'], source: 'flag --listen' }] }))
      .rejects.toMatchObject({ source: 'flag --listen', field: 'listen[0]' })
  })

  it('rejects an unknown DM2_ variable rather than ignoring a typo', async () => {
    await write({ name: 'A' })
    await expect(loadConfig({ file, env: { DM2_DICOM_PROT: '1' } })).rejects.toMatchObject({ name: 'ConfigError', field: 'DM2_DICOM_PROT' })
  })

  it('reports a missing file and bad JSON as ConfigFileError', async () => {
    await expect(loadConfig({ file: join(dir.path, 'none.json'), env: {} })).rejects.toMatchObject({ name: 'ConfigFileError' })
    await writeFile(file, '{ "name": ')
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ name: 'ConfigFileError' })
    await writeFile(file, '[1]')
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ name: 'ConfigError' })
  })

  it('creates nothing on disk, valid or not', async () => {
    await mkdir(join(dir.path, 'sub'))
    await write({ name: 'A', dataDir: 'sub/data' })
    await loadConfig({ file, env: {} })
    await write({ name: 'A', dataDir: 'sub/data', dicom: { port: -1 } })
    await loadConfig({ file, env: {} }).catch(() => {})
    expect(await readdir(join(dir.path, 'sub'))).toEqual([])
  })
})
