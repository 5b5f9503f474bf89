/**
 * A self-contained SVG chart (no fonts, scripts or links fetched): axes with
 * ticks, one polyline or a group of bars per series, a legend. Pure: a chart
 * description in, a string out.
 */

export interface ChartSeries {
  name: string
  /** `[x, y]` pairs; points with a non-finite coordinate are left out. */
  points: Array<[number, number]>
  dashed?: boolean
  /** A CSS colour; default: the palette colour of the series' position. */
  color?: string
}

export interface Chart {
  title: string
  xLabel: string
  yLabel: string
  series: ChartSeries[]
  /** `line` (default): x is numeric; `bar`: grouped bars, one group per distinct x. */
  kind?: 'line' | 'bar'
  /** Start the y axis at 0 (default true: counts, latencies and sizes read best from 0). */
  yFromZero?: boolean
}

const WIDTH = 720
const HEIGHT = 420
const MARGIN = { left: 72, top: 44, bottom: 56 }
// Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442']

/** Escapes text for SVG content and attribute values (XML 1.0 §2.4). */
export function escapeXml (s: string): string {
  return s.replace(/[<>&"']/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c)
}

/** "Nice" tick values (1, 2, 5 × 10^k steps) covering [min, max]. */
export function niceTicks (min: number, max: number, target = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1]
  if (max <= min) { max = min + (min === 0 ? 1 : Math.abs(min)) }
  const raw = (max - min) / target
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 5, 10].find(m => m * mag >= raw) ?? 10) * mag
  const ticks: number[] = []
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)))
  if ((ticks[ticks.length - 1] ?? -Infinity) < max) ticks.push(Number(((ticks[ticks.length - 1] ?? min) + step).toPrecision(12)))
  return ticks
}

function fmt (v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1)
  return String(Number(v.toPrecision(4)))
}

function finitePoints (s: ChartSeries): Array<[number, number]> {
  return s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
}

/** Renders the chart as a standalone SVG document. */
export function renderSvg (chart: Chart): string {
  const kind = chart.kind ?? 'line'
  const series = chart.series.map(s => ({ ...s, points: finitePoints(s) }))
  const all = series.flatMap(s => s.points)
  const xs = [...new Set(all.map(p => p[0]))].sort((a, b) => a - b)
  const ys = all.map(p => p[1])
  const yMin = (chart.yFromZero ?? true) ? Math.min(0, ...ys) : Math.min(...ys)
  const yTicks = niceTicks(ys.length > 0 ? yMin : 0, ys.length > 0 ? Math.max(...ys) : 1)
  const y0 = yTicks[0] ?? 0
  const y1 = yTicks[yTicks.length - 1] ?? 1
  // The legend sits right of the plot; give it room for the longest name (about 7 px a character).
  const right = Math.min(320, Math.max(120, 46 + 7 * Math.max(0, ...series.map(s => s.name.length))))
  const pw = WIDTH - MARGIN.left - right
  const ph = HEIGHT - MARGIN.top - MARGIN.bottom
  const py = (y: number): number => MARGIN.top + ph - (y - y0) / (y1 - y0) * ph

  let px: (x: number) => number
  let xTicks: number[]
  if (kind === 'bar') {
    const slot = pw / Math.max(1, xs.length)
    px = x => MARGIN.left + slot * (xs.indexOf(x) + 0.5)
    xTicks = xs
  } else {
    xTicks = niceTicks(xs.length > 0 ? (xs[0] as number) : 0, xs.length > 0 ? (xs[xs.length - 1] as number) : 1)
    const x0 = xTicks[0] ?? 0
    const x1 = xTicks[xTicks.length - 1] ?? 1
    px = x => MARGIN.left + (x - x0) / (x1 - x0) * pw
  }
  const r = (v: number): string => v.toFixed(1)

  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`)
  out.push(`<title>${escapeXml(chart.title)}</title>`)
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`)
  out.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`)

  // Grid and ticks.
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${r(py(t))}" x2="${MARGIN.left + pw}" y2="${r(py(t))}" stroke="#dddddd"/>`)
    out.push(`<text x="${MARGIN.left - 6}" y="${r(py(t) + 4)}" text-anchor="end">${escapeXml(fmt(t))}</text>`)
  }
  for (const t of xTicks) {
    out.push(`<line x1="${r(px(t))}" y1="${MARGIN.top + ph}" x2="${r(px(t))}" y2="${MARGIN.top + ph + 5}" stroke="#333333"/>`)
    out.push(`<text x="${r(px(t))}" y="${MARGIN.top + ph + 18}" text-anchor="middle">${escapeXml(fmt(t))}</text>`)
  }
  // Axes.
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + ph}" stroke="#333333"/>`)
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + ph}" x2="${MARGIN.left + pw}" y2="${MARGIN.top + ph}" stroke="#333333"/>`)
  out.push(`<text x="${MARGIN.left + pw / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`)
  out.push(`<text x="18" y="${MARGIN.top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + ph / 2})">${escapeXml(chart.yLabel)}</text>`)

  // Data.
  const groupWidth = pw / Math.max(1, xs.length) * 0.8
  const barWidth = groupWidth / Math.max(1, series.length)
  for (const [i, s] of series.entries()) {
    const colour = escapeXml(s.color ?? PALETTE[i % PALETTE.length] as string)
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : ''
    out.push(`<g fill="${colour}" stroke="${colour}"><title>${escapeXml(s.name)}</title>`)
    if (kind === 'bar') {
      for (const [x, y] of s.points) {
        const left = px(x) - groupWidth / 2 + i * barWidth
        const top = Math.min(py(y), py(Math.max(y0, 0)))
        const h = Math.abs(py(y) - py(Math.max(y0, 0)))
        out.push(`<rect x="${r(left)}" y="${r(top)}" width="${r(barWidth * 0.9)}" height="${r(h)}"${s.dashed === true ? ' fill-opacity="0.4"' : ''}/>`)
      }
    } else {
      const sorted = [...s.points].sort((a, b) => a[0] - b[0])
      if (sorted.length > 1) {
        out.push(`<polyline fill="none" stroke-width="2"${dash} points="${sorted.map(([x, y]) => `${r(px(x))},${r(py(y))}`).join(' ')}"/>`)
      }
      for (const [x, y] of sorted) out.push(`<circle cx="${r(px(x))}" cy="${r(py(y))}" r="3"/>`)
    }
    out.push('</g>')
  }

  // Legend, right of the plot.
  const lx = MARGIN.left + pw + 16
  for (const [i, s] of series.entries()) {
    const colour = escapeXml(s.color ?? PALETTE[i % PALETTE.length] as string)
    const ly = MARGIN.top + 10 + i * 20
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : ''
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${colour}" stroke-width="${kind === 'bar' ? 8 : 2}"${dash}/>`)
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`)
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}
