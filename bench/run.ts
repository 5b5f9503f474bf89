/**
 * `npm run bench` runs every `bench/<name>.ts` in turn, each in its own
 * process; `npm run bench -- <name> [<name>…]` runs only those.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withThreadpool } from '../src/config/defaults.js'

const here = dirname(fileURLToPath(import.meta.url))
const all = readdirSync(here).filter(f => f.endsWith('.ts') && f !== 'run.ts').map(f => f.slice(0, -3)).sort()
const wanted = process.argv.slice(2)
const unknown = wanted.filter(w => !all.includes(w))
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')}; available: ${all.join(', ')}\n`)
  process.exit(2)
}
let failed = 0
for (const name of wanted.length > 0 ? wanted : all) {
  process.stdout.write(`\n=== bench/${name}.ts ===\n`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], { stdio: 'inherit', env: withThreadpool() })
  if (r.status !== 0) {
    failed++
    process.stderr.write(`bench/${name}.ts failed (exit ${r.status ?? r.signal})\n`)
  }
}
process.exit(failed === 0 ? 0 : 1)
