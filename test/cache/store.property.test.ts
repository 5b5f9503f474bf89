import { stat } from 'node:fs/promises'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ByteStore } from '../../src/cache/store.js'
import type { CacheLevel } from '../../src/cache/types.js'
import { LruLedger, type LedgerEntry } from '../../src/cache/ledger.js'
import { bytes, diskBytes, errorOf, fixture, makeStore, type Fixture } from './helpers.js'

const MAX = 1000
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']

type Op =
  | { op: 'put', key: string, size: number }
  | { op: 'get', key: string }
  | { op: 'delete', key: string }
  | { op: 'restart' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.constantFrom(...KEYS), size: fc.integer({ min: 0, max: 1100 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.constantFrom(...KEYS) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }), weight: 1 },
  { arbitrary: fc.constant({ op: 'restart' as const }), weight: 1 }
)

/** The reference: an LRU list with the documented eviction rule. */
class Model {
  order: string[] = []
  entries = new Map<string, { size: number, fill: number }>()
  get total (): number { return [...this.entries.values()].reduce((t, e) => t + e.size, 0) }
  put (key: string, size: number, fill: number): void {
    this.remove(key)
    while (this.total + size > MAX) this.remove(this.order[0] ?? '')
    this.order.push(key)
    this.entries.set(key, { size, fill })
  }

  touch (key: string): void {
    if (!this.entries.has(key)) return
    this.order = [...this.order.filter(k => k !== key), key]
  }

  remove (key: string): void {
    this.order = this.order.filter(k => k !== key)
    this.entries.delete(key)
  }
}

describe('ByteStore, property: the budget holds and the LRU order is exact', () => {
  let f: Fixture
  let run = 0
  beforeAll(async () => { f = await fixture() })
  afterAll(async () => { await f.remove() })

  it('matches an LRU model under random puts, gets, deletes and restarts', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.constantFrom(0, 64), async (ops, inline) => {
      const name = `run${run++}`
      const level = (): CacheLevel => f.db.sublevel(name)
      let store: ByteStore = makeStore(f, { maxBytes: MAX, inlineThreshold: inline }, name, level())
      await store.open()
      const model = new Model()
      try {
        for (const [i, op] of ops.entries()) {
          const fill = i % 251
          if (op.op === 'put') {
            if (op.size > MAX) {
              expect((await errorOf(store.put(op.key, bytes(op.size, fill)))).name).toBe('CacheEntryTooLargeError')
            } else {
              await store.put(op.key, bytes(op.size, fill))
              model.put(op.key, op.size, fill)
            }
          } else if (op.op === 'get') {
            const expected = model.entries.get(op.key)
            const got = await store.read(op.key)
            expect(got).toEqual(expected === undefined ? undefined : bytes(expected.size, expected.fill))
            model.touch(op.key)
          } else if (op.op === 'delete') {
            await store.delete(op.key)
            model.remove(op.key)
          } else {
            await store.close()
            await f.reopenDb()
            store = makeStore(f, { maxBytes: MAX, inlineThreshold: inline }, name, level())
            await store.open()
          }
          const stats = store.stats()
          expect(stats.bytes).toBeLessThanOrEqual(MAX)
          expect(stats.bytes).toBe(model.total)
          expect(store.entries().map(e => e.key)).toEqual(model.order)
          const onDisk = [...model.entries.values()].filter(e => e.size > inline || inline === 0).reduce((t, e) => t + e.size, 0)
          expect(await diskBytes(store.directory)).toBe(onDisk)
        }
      } finally {
        await store.close()
      }
    }), { numRuns: 30 })
  })

  it('holds the budget under concurrent puts and leased reads', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ key: fc.integer({ min: 0, max: 9 }), size: fc.integer({ min: 0, max: 1500 }), hold: fc.integer({ min: 0, max: 5 }) }), { minLength: 5, maxLength: 40 }),
      async (tasks) => {
        const name = `conc${run++}`
        const store = makeStore(f, { maxBytes: 4000 }, name, f.db.sublevel(name))
        await store.open()
        let worst = 0
        const watch = (): void => { worst = Math.max(worst, store.stats().bytes) }
        try {
          await Promise.all(tasks.map(async (t, i) => {
            try {
              await store.put(`k${t.key}`, bytes(t.size, i % 251))
            } catch (err) {
              if ((err as Error).name !== 'CacheFullError') throw err
            }
            watch()
            const lease = await store.get(`k${(t.key * 7 + i) % 10}`)
            watch()
            if (lease?.kind === 'file') expect((await stat(lease.path)).size).toBe(lease.size)
            await new Promise(resolve => setTimeout(resolve, t.hold))
            lease?.release()
            watch()
          }))
          await new Promise(resolve => setTimeout(resolve, 10))
          expect(worst).toBeLessThanOrEqual(4000)
          expect(store.stats().pinned).toBe(0)
          expect(await diskBytes(store.directory)).toBe(store.stats().bytes)
          expect(store.entries().reduce((t, e) => t + e.size, 0)).toBe(store.stats().bytes)
        } finally {
          await store.close()
        }
      }
    ), { numRuns: 10 })
  })

  it('never plans an eviction that overshoots the budget or touches a pinned entry (ledger)', () => {
    interface E extends LedgerEntry { key: string, size: number, pins: number, doomed: boolean }
    fc.assert(fc.property(
      fc.array(fc.record({ size: fc.integer({ min: 0, max: 300 }), pinned: fc.boolean() }), { maxLength: 20 }),
      fc.integer({ min: 0, max: 1200 }),
      (items, incoming) => {
        const ledger = new LruLedger<E>(1000)
        let total = 0
        for (const [i, item] of items.entries()) {
          if (total + item.size > 1000) break
          ledger.add({ key: String(i), size: item.size, pins: item.pinned ? 1 : 0, doomed: false })
          total += item.size
        }
        const victims = ledger.plan(incoming, [])
        const freeable = [...ledger.values()].filter(e => e.pins === 0).reduce((t, e) => t + e.size, 0)
        if (victims === undefined) {
          expect(ledger.bytes - freeable + incoming).toBeGreaterThan(1000)
          return
        }
        expect(victims.every(v => v.pins === 0)).toBe(true)
        const freed = victims.reduce((t, v) => t + v.size, 0)
        expect(ledger.bytes - freed + incoming).toBeLessThanOrEqual(1000)
        // Least recently used first, and no more than needed.
        const unpinned = [...ledger.values()].filter(e => e.pins === 0)
        expect(victims).toEqual(unpinned.slice(0, victims.length))
        if (victims.length > 0) expect(ledger.bytes - freed + (victims.at(-1)?.size ?? 0) + incoming).toBeGreaterThan(1000)
      }
    ), { numRuns: 300 })
  })
})
