import { describe, expect, it } from 'vitest'
import { DEFAULT_HEAP_GROWING_PERCENT, heapGrowingPercent } from '../../src/config/heap.js'
import { runCli } from '../helpers/cli.js'

describe('the V8 heap growth of a node process', () => {
  it('is the default unless the operator chose', () => {
    expect(heapGrowingPercent([], {})).toBe(DEFAULT_HEAP_GROWING_PERCENT)
    expect(heapGrowingPercent([], { DM2_HEAP_GROWING_PERCENT: '250' })).toBe(250)
    // 0 keeps V8's own heuristic; V8's flag on the command line wins over both.
    expect(heapGrowingPercent([], { DM2_HEAP_GROWING_PERCENT: '0' })).toBeUndefined()
    expect(heapGrowingPercent(['--heap-growing-percent=30'], { DM2_HEAP_GROWING_PERCENT: '250' })).toBeUndefined()
    expect(heapGrowingPercent(['--heap_growing_percent', '30'], {})).toBeUndefined()
    expect(heapGrowingPercent(['--heap-growing-percentile=3'], {})).toBe(DEFAULT_HEAP_GROWING_PERCENT)
  })

  it('refuses an unusable value by name', () => {
    for (const bad of ['', ' ', '1.5', '-1', '1001', 'lots', '0x10']) {
      expect(() => heapGrowingPercent([], { DM2_HEAP_GROWING_PERCENT: bad })).toThrow(/DM2_HEAP_GROWING_PERCENT must be an integer from 0 to 1000/)
    }
  })

  it('is set when the dm2 command starts, before anything else runs', async () => {
    const bad = await runCli(['--version'], { DM2_HEAP_GROWING_PERCENT: 'lots' })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('DM2_HEAP_GROWING_PERCENT must be an integer')
    const ok = await runCli(['--version'], { DM2_HEAP_GROWING_PERCENT: '50' })
    expect(ok.code).toBe(0)
  })
})
