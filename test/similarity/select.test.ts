import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SmallestK } from '../../src/similarity/select.js'

describe('bounded selection of the k smallest', () => {
  it('equals sorting by (key, index) and taking k, for any input and k, with reuse', () => {
    const sel = new SmallestK(2)
    fc.assert(fc.property(
      fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 200 }),
      fc.integer({ min: 0, max: 60 }),
      (keys, k) => {
        sel.reset(k)
        keys.forEach((key, i) => sel.offer(key / 4, i))
        const expected = keys.map((key, i) => ({ key: key / 4, item: i }))
          .sort((a, b) => a.key - b.key || a.item - b.item)
          .slice(0, k)
        expect(sel.drain()).toEqual(expected)
        expect(sel.size).toBe(0)
      }
    ), { numRuns: 200 })
  })

  it('drainItems hands out the kept items (any order)', () => {
    const sel = new SmallestK()
    sel.reset(3)
    for (const [key, item] of [[5, 0], [1, 1], [4, 2], [0, 3], [9, 4]] as const) sel.offer(key, item)
    const out = new Int32Array(5)
    expect(sel.drainItems(out)).toBe(3)
    expect(Array.from(out.subarray(0, 3)).sort()).toEqual([1, 2, 3])
  })
})
