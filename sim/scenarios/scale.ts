/**
 * Scenario `scale`: 50 to 100 hospital nodes on one machine (no PACS),
 * reporting DHT lookup latency and hops against N, and memory per node.
 *
 *   npm run sim -- scale [--quick] [--nodes 50,75,100] [--seed N]
 *                        [--lookups N] [--workers N] [--out DIR]
 *
 * See sim/scale/index.ts for what is measured and how.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { writeResult } from '../lib/output.js'
import {
  DEFAULT_LOOKUPS_PER_KIND, DEFAULT_NODE_COUNTS, DEFAULT_SEED, DEFAULT_WORKERS,
  QUICK_LOOKUPS_PER_KIND, QUICK_NODE_COUNTS, QUICK_WORKERS
} from '../scale/constants.js'
import { ScaleUsageError } from '../scale/errors.js'
import { measureNetwork, type NetworkResult } from '../scale/network.js'
import { latencyChart, networkDetail, networkRow, TABLE_COLUMNS } from '../scale/summary.js'

export interface ScaleOptions {
  quick: boolean
  nodes: number[]
  seed: number
  lookupsPerKind: number
  workers: number
  outDir?: string
}

function positiveInt (raw: string, what: string, min = 1): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) throw new ScaleUsageError(`${what} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`)
  return Number(raw)
}

export function parseScaleArgs (argv: string[]): ScaleOptions {
  let values
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        nodes: { type: 'string' },
        seed: { type: 'string' },
        lookups: { type: 'string' },
        workers: { type: 'string' },
        out: { type: 'string' }
      }
    }).values
  } catch (err) {
    throw new ScaleUsageError((err as Error).message)
  }
  const quick = values.quick === true
  return {
    quick,
    nodes: values.nodes === undefined ? (quick ? QUICK_NODE_COUNTS : DEFAULT_NODE_COUNTS) : values.nodes.split(',').map(s => positiveInt(s.trim(), '--nodes', 2)),
    seed: values.seed === undefined ? DEFAULT_SEED : positiveInt(values.seed, '--seed', 0),
    lookupsPerKind: values.lookups === undefined ? (quick ? QUICK_LOOKUPS_PER_KIND : DEFAULT_LOOKUPS_PER_KIND) : positiveInt(values.lookups, '--lookups'),
    workers: values.workers === undefined ? (quick ? QUICK_WORKERS : DEFAULT_WORKERS) : positiveInt(values.workers, '--workers'),
    ...(values.out === undefined ? {} : { outDir: values.out })
  }
}

export async function run (argv: string[]): Promise<number> {
  let options: ScaleOptions
  try {
    options = parseScaleArgs(argv)
  } catch (err) {
    if ((err as Error).name !== 'ScaleUsageError') throw err
    process.stderr.write(`scale: ${(err as Error).message}\n`)
    return 2
  }
  const progress = (line: string): void => { process.stderr.write(`scale: ${line}\n`) }
  const root = await mkdtemp(join(tmpdir(), 'dm2-sim-scale-'))
  const nets: NetworkResult[] = []
  try {
    for (const n of options.nodes) {
      progress(`--- ${n} nodes (seed ${options.seed}) ---`)
      nets.push(await measureNetwork({ nodes: n, seed: options.seed, workers: options.workers, lookupsPerKind: options.lookupsPerKind, root: join(root, `n${n}`), progress }))
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  const rows = nets.map(networkRow)
  await writeResult({
    scenario: 'scale',
    seed: options.seed,
    rows,
    columns: TABLE_COLUMNS,
    chart: latencyChart(nets),
    tableTitle: 'DHT lookups vs network size (hospital nodes without PACS, TCP on 127.0.0.1)',
    ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
    extra: {
      quick: options.quick,
      workers: options.workers,
      lookupsPerKind: options.lookupsPerKind,
      hopsDefinition: 'depth of the answering peer: 1 = from the requester\'s routing table, d+1 = first learned from a depth-d answer',
      detail: nets.map(networkDetail)
    }
  })
  const failed = rows.reduce((a, r) => a + Number(r.failed), 0)
  if (failed > 0) progress(`${failed} lookups failed (seed ${options.seed}); see detail.failures in the JSON`)
  return failed > 0 ? 1 : 0
}
