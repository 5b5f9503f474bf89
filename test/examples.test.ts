/**
 * The README's API example is examples/cardiologist.ts verbatim, and it runs:
 * three real nodes, a query, the parameters, the volume, similar cases.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('README example', () => {
  it('is examples/cardiologist.ts, word for word', async () => {
    const readme = await readFile(`${root}README.md`, 'utf8')
    const example = await readFile(`${root}examples/cardiologist.ts`, 'utf8')
    const block = /<!-- example: examples\/cardiologist\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBe(example)
  })

  it('runs against a local federation and prints what it found', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/cardiologist.ts'], {
      cwd: root, timeout: 120_000, env: { ...process.env, DM2_LOG_LEVEL: 'silent' }
    })
    expect(stdout).toMatch(/^1 CT series found, 0 hospital\(s\) did not answer$/m)
    expect(stdout).toMatch(/^1573216 bytes of NIfTI in \d+ ms$/m)
    expect(stdout).toMatch(/^0 similar series/m)
  }, 150_000)
})
