/** Plain-text tables for the terminal. */
import type { DiscoveryMatrix } from '../node/discovery.js'

/** Left-aligned columns separated by two spaces. */
export function formatTable (rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, [...cell].length) })
  return rows.map(row => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}

/** The who-found-whom matrix: rows look up columns. */
export function formatMatrix (m: DiscoveryMatrix): string {
  const rows: string[][] = [['from \\ to', ...m.names]]
  for (const from of m.names) {
    rows.push([from, ...m.names.map(to => {
      if (to === from) return '—'
      const cell = m.cells.find(c => c.from === from && c.to === to)
      return cell?.found === true ? cell.ms.toFixed(1) : '✗'
    })])
  }
  return formatTable(rows)
}
