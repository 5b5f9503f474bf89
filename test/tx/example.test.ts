import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The `@example` block of a module doc, de-commented. */
async function exampleOf (file: string): Promise<string> {
  const source = await readFile(join(ROOT, file), 'utf8')
  const block = /```ts\n([\s\S]*?)```/.exec(source)?.[1]
  if (block === undefined) throw new Error(`${file} has no example`)
  return block.split('\n').map((line) => line.replace(/^ \* ?/, '')).join('\n')
}

describe('tx module doc', () => {
  it('its example runs as written', async () => {
    const code = await exampleOf('src/tx/index.ts')
    expect(code).toContain("engine.run('getImage'")
    // Under node_modules so that bare imports resolve to the project's packages; git ignores it.
    const dir = join(ROOT, 'node_modules', '.cache', 'dm2-tx-example')
    await mkdir(dir, { recursive: true })
    const file = join(dir, `example-${process.pid}-${Date.now()}.mts`)
    const runnable = code.replace("'./src/tx/index.js'", `'${join(ROOT, 'src/tx/index.ts')}'`) + '\nexport { files }\n'
    await writeFile(file, runnable)
    try {
      const mod = await import(file) as { files: string[] }
      expect(mod.files).toHaveLength(4)
      expect(mod.files.map((f) => f.slice(-11))).toEqual(['slice-1.dcm', 'slice-2.dcm', 'slice-3.dcm', 'slice-4.dcm'])
    } finally {
      await rm(file, { force: true })
    }
  })
})
