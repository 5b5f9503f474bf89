/** The README's configuration reference and the defaults module must agree. */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_THREADPOOL_SIZE, withThreadpool
} from '../../src/config/defaults.js'
import { DEFAULT_COPY_BYTES, DEFAULT_IMAGE_BYTES, DEFAULT_RESULT_BYTES, DEFAULT_SLICE_BYTES } from '../../src/cache/index.js'
import {
  DEFAULT_DATA_DIR, DEFAULT_DICOM_AE_TITLE, DEFAULT_DICOM_HOST, DEFAULT_DICOM_PORT, DEFAULT_LISTEN,
  DEFAULT_LOG_LEVEL, DHT_PROTOCOL, ENV_OVERRIDES, LOG_LEVELS, hospitalConfigSchema
} from '../../src/config/index.js'

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')

function row (field: string): string {
  const line = readme.split('\n').find(l => l.startsWith(`| \`${field}\` |`))
  if (line === undefined) throw new Error(`README has no configuration row for ${field}`)
  return line
}

describe('configuration reference in the README', () => {
  it('gives each default as the defaults module does', () => {
    expect(row('dataDir')).toContain(`| \`${DEFAULT_DATA_DIR}\` |`)
    expect(row('listen')).toContain(JSON.stringify(DEFAULT_LISTEN))
    expect(row('dicom.aeTitle')).toContain(`| \`${DEFAULT_DICOM_AE_TITLE}\` |`)
    expect(row('dicom.host')).toContain(`| \`${DEFAULT_DICOM_HOST}\` |`)
    expect(row('dicom.port')).toContain(`| \`${DEFAULT_DICOM_PORT}\` |`)
    expect(row('log.level')).toContain(`| \`${DEFAULT_LOG_LEVEL}\` |`)
    for (const level of LOG_LEVELS) expect(row('log.level')).toContain(`\`${level}\``)
    const binary = (bytes: number): string => bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / 2 ** 20} MiB`
    expect(row('cache.results')).toContain(`| \`${binary(DEFAULT_RESULT_BYTES)}\` |`)
    expect(row('cache.images')).toContain(`| \`${binary(DEFAULT_IMAGE_BYTES)}\` |`)
    expect(row('cache.slices')).toContain(`| \`${binary(DEFAULT_SLICE_BYTES)}\` |`)
    expect(row('cache.copies')).toContain(`| \`${binary(DEFAULT_COPY_BYTES)}\` |`)
    expect(readme).toContain(DHT_PROTOCOL)
  })

  it('documents every environment variable next to its field', () => {
    for (const [name, spec] of Object.entries(ENV_OVERRIDES)) {
      expect(row(spec.path.join('.'))).toContain(name)
    }
  })

  it('documents every top-level field of the schema', () => {
    for (const key of Object.keys(hospitalConfigSchema.shape)) {
      expect(readme).toMatch(new RegExp(`\\| \`${key}(\\.[a-zA-Z]+)?\` \\|`))
    }
  })

  it('uses the defaults when a config names only the hospital', () => {
    const parsed = hospitalConfigSchema.parse({ name: 'X' })
    expect(parsed.dataDir).toBe(DEFAULT_DATA_DIR)
    expect(parsed.listen).toEqual(DEFAULT_LISTEN)
    expect(parsed.dicom).toEqual({ aeTitle: DEFAULT_DICOM_AE_TITLE, host: DEFAULT_DICOM_HOST, port: DEFAULT_DICOM_PORT })
    expect(parsed.log.level).toBe(DEFAULT_LOG_LEVEL)
  })
})

describe('the libuv thread pool of dm2 processes', () => {
  it('is the same size in bin/dm2.cjs (which cannot import it), the README and the defaults module', async () => {
    const bin = await readFile(new URL('../../bin/dm2.cjs', import.meta.url), 'utf8')
    expect(bin).toContain(`process.env.UV_THREADPOOL_SIZE = '${DEFAULT_THREADPOOL_SIZE}'`)
    expect(readme).toContain(`\`UV_THREADPOOL_SIZE\` (Node's libuv thread pool, default 4) is \`${DEFAULT_THREADPOOL_SIZE}\``)
  })

  it('keeps an operator\'s value', () => {
    expect(withThreadpool({ UV_THREADPOOL_SIZE: '64', X: '1' })).toEqual({ UV_THREADPOOL_SIZE: '64', X: '1' })
    expect(withThreadpool({ X: '1' })).toEqual({ UV_THREADPOOL_SIZE: String(DEFAULT_THREADPOOL_SIZE), X: '1' })
  })
})
