import { describe, expect, it } from 'vitest'
import * as tx from '../../src/tx/index.js'

describe('tx errors: catalogue', () => {
  const step = { kind: 'request' as const, name: 'c-get' }
  const init = { txId: 't', query: 'q', step, path: ['q', 'c-get'], cause: new Error('x') }
  const samples: Array<[new (...args: never[]) => Error, Error, string]> = [
    [tx.TransactionError, new tx.TransactionError(init), 'TransactionError'],
    [tx.TransactionAbortError, new tx.TransactionAbortError(init), 'AbortError'],
    [tx.StepError, new tx.StepError(step, ['q', 'c-get'], new Error('x')), 'StepError'],
    [tx.BusyError, new tx.BusyError(8, 64), 'BusyError'],
    [tx.EngineClosedError, new tx.EngineClosedError(), 'EngineClosedError'],
    [tx.UnknownCompensationError, new tx.UnknownCompensationError('fs.rm'), 'UnknownCompensationError'],
    [tx.TxDefinitionError, new tx.TxDefinitionError('bad'), 'TxDefinitionError'],
    [tx.JournalRecordError, new tx.JournalRecordError('k', 'bad'), 'JournalRecordError']
  ]

  it.each(samples)('%o: instance name equals the class name property', (cls, instance, name) => {
    expect(instance.name).toBe(name)
    expect(cls.name).toBe(name)
    expect(instance).toBeInstanceOf(Error)
    expect(instance.message.length).toBeGreaterThan(0)
  })

  it('every exported error class is in the catalogue', () => {
    const exported = Object.entries(tx).filter(([, v]) => typeof v === 'function' && (v as { prototype: unknown }).prototype instanceof Error)
    expect(exported.map(([k]) => k).sort()).toEqual(samples.map(([cls]) => Object.entries(tx).find(([, v]) => v === cls)?.[0]).sort())
  })

  it('a TransactionError keeps the original error as cause and says which step failed', () => {
    const err = new tx.TransactionError(init)
    expect(err.cause).toBe(init.cause)
    expect(err.message).toBe('q: request "c-get" failed: Error: x')
    expect(err.rolledBack).toBe(true)
    expect(new tx.TransactionAbortError(init)).toBeInstanceOf(tx.TransactionError)
  })
})
