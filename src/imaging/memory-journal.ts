/**
 * A journal store kept in memory, for a pipeline built without an engine
 * (tests, tools): transactional within the process, but nothing survives a
 * crash — a node passes its own `TxEngine` on a level sublevel instead.
 */
import type { JournalOperation, JournalStore } from '../tx/index.js'

export function memoryJournal (): JournalStore {
  const entries = new Map<string, string>()
  return {
    batch: async (operations: JournalOperation[]) => {
      for (const op of operations) {
        if (op.type === 'put') entries.set(op.key, op.value)
        else entries.delete(op.key)
      }
    },
    iterator: ({ gte, lt }) => {
      const keys = [...entries.keys()].filter(k => (gte === undefined || k >= gte) && (lt === undefined || k < lt)).sort()
      return (async function * () {
        for (const k of keys) {
          const v = entries.get(k)
          if (v !== undefined) yield [k, v] as [string, string]
        }
      })()
    }
  }
}
