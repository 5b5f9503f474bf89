/**
 * Command-line options shared by the simulator scenarios:
 * `--quick`, `--seed N` (repeatable or comma-separated), `--out DIR`,
 * `--hospitals 1,2,6`, `--window S`, `--link MBITS` (repeatable),
 * `--pacs edge|orthanc`, `--in-process`, `--inflight K`, `--keep`.
 */
import { parseArgs } from 'node:util'

export interface ScenarioArgs {
  quick: boolean
  seeds: number[]
  out?: string
  hospitals?: number[]
  windowS?: number
  linksMbit?: number[]
  pacs: 'edge' | 'orthanc'
  inProcess: boolean
  inflight?: number
  keep: boolean
}

export class ScenarioArgsError extends Error {
  static override name = 'ScenarioArgsError'
  constructor (message: string) {
    super(message)
    this.name = 'ScenarioArgsError'
  }
}

function numbers (values: string[] | undefined, what: string, integer: boolean): number[] | undefined {
  if (values === undefined || values.length === 0) return undefined
  const out = values.flatMap(v => v.split(',')).map(v => v.trim()).filter(v => v !== '').map(Number)
  if (out.some(n => !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))) throw new ScenarioArgsError(`--${what}: expected ${integer ? 'whole ' : ''}numbers, got ${values.join(' ')}`)
  return out
}

export function parseScenarioArgs (argv: string[]): ScenarioArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        seed: { type: 'string', multiple: true },
        out: { type: 'string' },
        hospitals: { type: 'string', multiple: true },
        window: { type: 'string' },
        link: { type: 'string', multiple: true },
        pacs: { type: 'string', default: 'edge' },
        'in-process': { type: 'boolean', default: false },
        inflight: { type: 'string' },
        keep: { type: 'boolean', default: false }
      }
    })
  } catch (err) {
    throw new ScenarioArgsError((err as Error).message)
  }
  const v = parsed.values
  if (v.pacs !== 'edge' && v.pacs !== 'orthanc') throw new ScenarioArgsError(`--pacs: edge or orthanc, got ${v.pacs}`)
  const windowS = numbers(v.window === undefined ? undefined : [v.window], 'window', false)?.[0]
  const inflight = numbers(v.inflight === undefined ? undefined : [v.inflight], 'inflight', true)?.[0]
  const hospitals = numbers(v.hospitals, 'hospitals', true)
  if (hospitals?.some(h => h < 1 || h > 64) === true) throw new ScenarioArgsError('--hospitals: 1 to 64')
  const args: ScenarioArgs = {
    quick: v.quick,
    seeds: numbers(v.seed, 'seed', true) ?? [],
    pacs: v.pacs,
    inProcess: v['in-process'],
    keep: v.keep
  }
  if (v.out !== undefined) args.out = v.out
  if (hospitals !== undefined) args.hospitals = hospitals
  if (windowS !== undefined) args.windowS = windowS
  const links = numbers(v.link, 'link', false)
  if (links !== undefined) args.linksMbit = links
  if (inflight !== undefined) args.inflight = inflight
  return args
}
