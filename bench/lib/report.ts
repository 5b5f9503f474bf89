/**
 * Output of bench scripts: a readable table on stdout, then, as the very last
 * line, one JSON object with the figures (`ratio` = ours ÷ reference where an
 * issue sets a goal against a reference).
 */

export interface Summary {
  n: number
  min: number
  median: number
  p95: number
  max: number
  mean: number
}

/** Order statistics of a sample (nearest-rank percentiles). */
export function summarize (samples: number[]): Summary {
  if (samples.length === 0) return { n: 0, min: NaN, median: NaN, p95: NaN, max: NaN, mean: NaN }
  const s = [...samples].sort((a, b) => a - b)
  const rank = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number
  return {
    n: s.length,
    min: s[0] as number,
    median: rank(0.5),
    p95: rank(0.95),
    max: s[s.length - 1] as number,
    mean: s.reduce((a, b) => a + b, 0) / s.length
  }
}

/** Rounds for display and JSON: 3 significant decimals at most. */
export function round (x: number, digits = 3): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x
}

function write (line = ''): void {
  process.stdout.write(line + '\n')
}

/** Prints a titled table; every row must have the same keys. */
export function printTable (title: string, rows: Array<Record<string, string | number>>): void {
  write(title)
  if (rows.length === 0) { write('(no rows)'); return }
  const keys = Object.keys(rows[0] as object)
  const cells = [keys, ...rows.map(r => keys.map(k => {
    const v = r[k]
    return typeof v === 'number' ? String(round(v)) : String(v ?? '')
  }))]
  const widths = keys.map((_, i) => Math.max(...cells.map(row => (row[i] ?? '').length)))
  for (const [j, row] of cells.entries()) {
    write(row.map((c, i) => c.padStart(widths[i] ?? 0)).join('  '))
    if (j === 0) write(widths.map(w => '-'.repeat(w)).join('  '))
  }
  write()
}

/** Prints the figures as the last line of output. */
export function printResult (result: Record<string, unknown>): void {
  write(JSON.stringify(result))
}
