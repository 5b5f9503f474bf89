/**
 * `npm run sim -- <scenario> [options]`: runs one simulator scenario.
 *
 * Each scenario is a module `sim/scenarios/<name>.ts` exporting
 * `run(argv: string[]): Promise<number>` (the process exit code). It prints a
 * readable table, writes its JSON result and SVG chart under `sim/out/`, and
 * prints the JSON result as its last line.
 */
import '../src/polyfill.js'

const SCENARIOS = ['paper-fig4b', 'faults', 'scale'] as const

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || !(SCENARIOS as readonly string[]).includes(name)) {
    process.stderr.write(`usage: npm run sim -- <${SCENARIOS.join('|')}> [--quick] [--seed N] [--out DIR]\n`)
    return name === undefined || name.startsWith('-') ? 0 : 2
  }
  const scenario = await import(`./scenarios/${name}.js`) as { run: (argv: string[]) => Promise<number> }
  return await scenario.run(rest)
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, err => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
