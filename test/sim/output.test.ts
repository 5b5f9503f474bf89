import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { escapeXml, niceTicks, renderSvg, tableRows, writeResult, type Chart } from '../../sim/lib/output.js'
import { tempDir } from '../helpers/tmp.js'

/**
 * A small well-formedness check (XML 1.0 §2.1): tags balance, attributes are
 * quoted, text holds no raw `<` and only the five predefined entities or
 * numeric references. Returns the element names in document order.
 */
function parseXml (xml: string): string[] {
  const names: string[] = []
  const stack: string[] = []
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '')
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y
  let i = 0
  while (i < body.length) {
    token.lastIndex = i
    const m = token.exec(body)
    if (m === null) throw new Error(`not well-formed at ${i}: ${body.slice(i, i + 40)}`)
    i = token.lastIndex
    const [, close, name, attrs, selfClose, text] = m
    const checkEntities = (s: string): void => {
      for (const e of s.match(/&[^;]*;?/g) ?? []) {
        if (!/^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);$/i.test(e)) throw new Error(`bad entity ${e}`)
      }
    }
    if (text !== undefined) { checkEntities(text); continue }
    checkEntities(attrs ?? '')
    if (close === '/') {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name ?? ''}>`)
    } else {
      names.push(name as string)
      if (selfClose !== '/') stack.push(name as string)
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`)
  return names
}

const chart: Chart = {
  title: 'Latency <p95> & "median"',
  xLabel: 'nodes',
  yLabel: 'ms',
  series: [
    { name: 'median', points: [[50, 3.5], [75, 4.25], [100, 5]] },
    { name: 'p95 <&>', points: [[50, 8], [75, 9], [100, NaN]], dashed: true }
  ]
}

describe('svg', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml('a<b>&"c\'')).toBe('a&lt;b&gt;&amp;&quot;c&apos;')
  })

  it('nice ticks cover the range in 1-2-5 steps', () => {
    expect(niceTicks(0, 9.3)).toEqual([0, 2, 4, 6, 8, 10])
    expect(niceTicks(50, 100)).toEqual([50, 60, 70, 80, 90, 100])
    const t = niceTicks(0, 0)
    expect(t[0]).toBe(0)
    expect(t.length).toBeGreaterThan(1)
  })

  it('renders a well-formed line chart with axes, ticks, legend and escaped text', () => {
    const svg = renderSvg(chart)
    const names = parseXml(svg)
    expect(names[0]).toBe('svg')
    expect(names.filter(n => n === 'polyline')).toHaveLength(2)
    // 3 + 2 points (the NaN one is left out)
    expect(names.filter(n => n === 'circle')).toHaveLength(5)
    expect(svg).toContain('Latency &lt;p95&gt; &amp; &quot;median&quot;')
    expect(svg).toContain('p95 &lt;&amp;&gt;')
    expect(svg).not.toContain('<p95>')
    expect(svg).toContain('stroke-dasharray')
    for (const tick of ['>50<', '>100<', '>0<', '>8<']) expect(svg).toContain(tick)
    expect(svg).not.toMatch(/NaN|Infinity|undefined/)
    expect(svg).not.toMatch(/href|<script/)
  })

  it('renders grouped bars, one rect per point', () => {
    const svg = renderSvg({ ...chart, kind: 'bar' })
    const names = parseXml(svg)
    // background + 5 bars
    expect(names.filter(n => n === 'rect')).toHaveLength(6)
    expect(svg).not.toMatch(/NaN/)
  })

  it('renders an empty chart without NaN', () => {
    const svg = renderSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })
    expect(parseXml(svg)[0]).toBe('svg')
    expect(svg).not.toMatch(/NaN|Infinity/)
  })
})

describe('writeResult', () => {
  let removeDir: (() => Promise<void>) | undefined
  afterEach(async () => {
    vi.restoreAllMocks()
    await removeDir?.()
    removeDir = undefined
  })

  it('writes JSON and SVG, prints the table and the JSON result last', async () => {
    const dir = await tempDir('dm2-sim-out-')
    removeDir = dir.remove
    const lines: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      lines.push(...String(s).split('\n'))
      return true
    })
    const rows = [
      { nodes: 50, lookupMedianMs: 3.5, ok: true, note: 'a<b' },
      { nodes: 100, lookupMedianMs: 5, ok: false, note: null }
    ]
    const written = await writeResult({ scenario: 'demo', seed: 7, rows, columns: ['nodes', 'lookupMedianMs'], chart, outDir: dir.path, extra: { quick: true } })
    vi.restoreAllMocks()

    expect(written.jsonPath).toBe(`${dir.path}/demo.json`)
    expect(written.svgPath).toBe(`${dir.path}/demo.svg`)
    const json = JSON.parse(await readFile(written.jsonPath, 'utf8')) as Record<string, unknown>
    expect(json).toEqual({ scenario: 'demo', seed: 7, quick: true, rows })
    expect(Object.keys(json)).toEqual(['scenario', 'seed', 'quick', 'rows'])
    parseXml(await readFile(written.svgPath, 'utf8'))

    const printed = lines.filter(l => l !== '')
    expect(JSON.parse(printed[printed.length - 1] as string)).toEqual(json)
    expect(printed[0]).toBe('Latency <p95> & "median" (seed 7)')
    expect(printed[1]).toMatch(/^nodes\s+lookupMedianMs$/)
    expect(printed.some(l => /^\s+100\s+5$/.test(l))).toBe(true)
  })

  it('rejects a scenario name that would escape the output folder', async () => {
    await expect(writeResult({ scenario: '../x', rows: [], chart })).rejects.toThrow(/bad scenario/)
  })

  it('table rows keep the column order and stringify booleans and nulls', () => {
    expect(tableRows([{ a: 1, b: true, c: null }], ['c', 'b', 'a'])).toEqual([{ c: '', b: 'true', a: 1 }])
    expect(tableRows([{ a: 1, b: 'x' }])).toEqual([{ a: 1, b: 'x' }])
  })
})
