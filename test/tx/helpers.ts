/** Shared set-up for the transaction engine tests: a real LevelDB in a temp dir, a quiet logger. */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { defaultLogger } from '@libp2p/logger'
import { TxEngine, type JournalStore, type TxEngineInit } from '../../src/tx/index.js'
import { tempDir } from '../helpers/tmp.js'

export interface Harness {
  dir: string
  db: Level<string, string>
  journal: JournalStore
  engine: TxEngine
  /** Journal keys still present (an empty list means nothing is left to roll back). */
  journalKeys: () => Promise<string[]>
  close: () => Promise<void>
}

export async function openHarness (init: Partial<Omit<TxEngineInit, 'db' | 'logger'>> = {}): Promise<Harness> {
  const tmp = await tempDir('dm2-tx-')
  const db = new Level<string, string>(join(tmp.path, 'db'))
  await db.open()
  const journal = db.sublevel<string, string>('tx', {})
  const engine = new TxEngine({ db: journal, logger: defaultLogger(), ...init })
  return {
    dir: tmp.path,
    db,
    journal,
    engine,
    journalKeys: async () => await journal.keys().all(),
    close: async () => {
      await engine.close()
      await db.close()
      await tmp.remove()
    }
  }
}

export async function exists (path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted()
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A promise settled from outside, to hold a step open until the test lets it go. */
export function gate<T = void> (): { promise: Promise<T>, open: (value: T) => void } {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => { open = resolve })
  return { promise, open }
}

/** Counts concurrent holders and remembers the most seen at once. */
export class ConcurrencyMeter {
  current = 0
  max = 0

  async measure<T>(work: () => Promise<T>): Promise<T> {
    this.current++
    this.max = Math.max(this.max, this.current)
    try {
      return await work()
    } finally {
      this.current--
    }
  }
}
