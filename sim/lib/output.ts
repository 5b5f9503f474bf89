/**
 * The one result writer of every simulator scenario: a readable table on
 * stdout, `<outDir>/<scenario>.json`, a self-contained chart
 * `<outDir>/<scenario>.svg`, and the JSON result as the LAST stdout line
 * (what scripts and CI read).
 *
 * @example
 * ```ts
 * import { writeResult } from '../lib/output.js'
 * const { jsonPath, svgPath } = await writeResult({
 *   scenario: 'scale',
 *   seed: 1,
 *   rows: [{ nodes: 50, lookupMedianMs: 4.2 }, { nodes: 100, lookupMedianMs: 5.1 }],
 *   chart: {
 *     title: 'DHT lookup latency', xLabel: 'nodes', yLabel: 'ms',
 *     series: [{ name: 'median', points: [[50, 4.2], [100, 5.1]] }]
 *   }
 * })
 * ```
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { printResult, printTable } from '../../bench/lib/report.js'
import { renderSvg, type Chart } from './svg.js'

export type { Chart, ChartSeries } from './svg.js'
export { renderSvg, escapeXml, niceTicks, PALETTE } from './svg.js'

/** One flat record of a result table. */
export type Row = Record<string, string | number | boolean | null>

/** Where results go when the scenario is not told otherwise (git-ignored). */
export const DEFAULT_OUT_DIR = resolve(fileURLToPath(new URL('../out', import.meta.url)))

export interface ResultInput {
  scenario: string
  seed?: number
  rows: Row[]
  /** Columns of the terminal table, in order (default: keys of the first row). The JSON keeps every key. */
  columns?: string[]
  chart: Chart
  outDir?: string
  /** More top-level fields of the JSON result (e.g. parameters, ceilings). */
  extra?: Record<string, unknown>
  /** Title line of the terminal table (default: the chart's title). */
  tableTitle?: string
}

export interface WrittenResult {
  jsonPath: string
  svgPath: string
  /** The object written to the JSON file and printed as the last line. */
  result: Record<string, unknown>
}

const SCENARIO_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i

function cell (v: Row[string] | undefined): string | number {
  if (typeof v === 'number' || typeof v === 'string') return v
  if (v === undefined || v === null) return ''
  return String(v)
}

/** The JSON result object: scenario, seed, extra fields, rows (in that order). */
export function buildResult (input: ResultInput): Record<string, unknown> {
  return {
    scenario: input.scenario,
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    ...(input.extra ?? {}),
    rows: input.rows
  }
}

/** Rows cut to `columns` (all the same keys, as `printTable` needs). */
export function tableRows (rows: Row[], columns?: string[]): Array<Record<string, string | number>> {
  const keys = columns ?? Object.keys(rows[0] ?? {})
  return rows.map(row => Object.fromEntries(keys.map(k => [k, cell(row[k])])))
}

async function writeAtomic (path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text)
  await rename(tmp, path)
}

/**
 * Prints the table, writes the JSON and SVG files, then prints the JSON
 * result as the last stdout line. Returns the paths and the result object.
 */
export async function writeResult (input: ResultInput): Promise<WrittenResult> {
  if (!SCENARIO_NAME.test(input.scenario)) throw new TypeError(`bad scenario name: ${JSON.stringify(input.scenario)}`)
  const outDir = resolve(input.outDir ?? DEFAULT_OUT_DIR)
  await mkdir(outDir, { recursive: true })
  const result = buildResult(input)
  const jsonPath = join(outDir, `${input.scenario}.json`)
  const svgPath = join(outDir, `${input.scenario}.svg`)
  await writeAtomic(jsonPath, JSON.stringify(result, null, 2) + '\n')
  await writeAtomic(svgPath, renderSvg(input.chart))

  const seed = input.seed === undefined ? '' : ` (seed ${input.seed})`
  printTable(`${input.tableTitle ?? input.chart.title}${seed}`, tableRows(input.rows, input.columns))
  process.stdout.write(`wrote ${jsonPath}\nwrote ${svgPath}\n`)
  printResult(result)
  return { jsonPath, svgPath, result }
}
