import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JournalRecordError, MAX_COMPENSATION_DATA_BYTES } from '../../src/tx/index.js'
import { decodeRecord, entryKey, newTxId } from '../../src/tx/journal.js'
import { openHarness, type Harness } from './helpers.js'

describe('tx journal: records', () => {
  it('transaction ids sort by time and have a fixed shape', () => {
    const a = newTxId(1_000)
    const b = newTxId(2_000_000_000_000)
    expect(a).toMatch(/^[0-9a-z]{10}-[0-9a-f]{12}$/)
    expect(a < b).toBe(true)
    expect(entryKey(a, 7)).toBe(`${a}~00000007`)
    expect(entryKey(a, 10) > entryKey(a, 9)).toBe(true)
  })

  it('decodes only well-formed records; anything else is a JournalRecordError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.boolean(), (value, isEntry) => {
      const key = isEntry ? 'tx~00000001' : 'tx'
      try {
        const record = decodeRecord(key, value)
        expect(record.v).toBe(1)
      } catch (err) {
        expect(err).toBeInstanceOf(JournalRecordError)
      }
    }), { numRuns: 300 })
    fc.assert(fc.property(fc.jsonValue(), (json) => {
      try {
        decodeRecord('tx~00000001', JSON.stringify(json) ?? 'null')
      } catch (err) {
        expect(err).toBeInstanceOf(JournalRecordError)
      }
    }), { numRuns: 300 })
    const undo = { v: 1, t: 'undo', seq: 1, step: { kind: 'tool', name: 'x' }, kind: 'fs.rm', data: { path: '/tmp/x' } }
    expect(decodeRecord('tx~00000001', JSON.stringify(undo))).toEqual(undo)
    expect(() => decodeRecord('tx~00000001', JSON.stringify({ ...undo, v: 2 }))).toThrow(/unknown version/)
    expect(() => decodeRecord('tx~00000001', JSON.stringify({ ...undo, step: { kind: 'sql', name: 'x' } }))).toThrow(/malformed/)
    expect(() => decodeRecord('tx', 'x'.repeat(MAX_COMPENSATION_DATA_BYTES * 8))).toThrow(/too large/)
  })
})

describe('tx journal: recovery of what cannot be undone', () => {
  let h: Harness
  beforeEach(async () => { h = await openHarness() })
  afterEach(async () => { await h.close() })

  it('leaves corrupt records and compensations without a handler in place, and says so', async () => {
    const id = newTxId(Date.now())
    await h.journal.batch([
      { type: 'put', key: id, value: JSON.stringify({ v: 1, id, name: 'q', startedAt: 1 }) },
      { type: 'put', key: entryKey(id, 1), value: '{not json' }
    ], { sync: false })
    const orphan = newTxId(Date.now())
    const undo = { v: 1, t: 'undo', seq: 1, step: { kind: 'tool', name: 'x' }, kind: 'cache.del', data: { key: 'k' } }
    await h.journal.batch([
      { type: 'put', key: orphan, value: JSON.stringify({ v: 1, id: orphan, name: 'q2', startedAt: 1 }) },
      { type: 'put', key: entryKey(orphan, 1), value: JSON.stringify(undo) }
    ], { sync: false })

    const report = await h.engine.recover()
    expect(report.rolledBack).toEqual([])
    expect(report.failed.map((f) => [f.txId, f.error.name]).sort()).toEqual([
      [id, 'JournalRecordError'], [orphan, 'UnknownCompensationError']
    ].sort())
    expect(await h.journalKeys()).toHaveLength(4)

    // Once the handler exists (the module that owns the cache is loaded), recovery completes.
    const deleted: string[] = []
    h.engine.compensation<{ key: string }>('cache.del', ({ key }) => { deleted.push(key) })
    const again = await h.engine.recover()
    expect(again.rolledBack).toEqual([orphan])
    expect(deleted).toEqual(['k'])
    expect(await h.journalKeys()).toHaveLength(2)
  })
})
