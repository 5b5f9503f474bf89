/**
 * Start-up recovery: every transaction still in the journal was interrupted
 * (crash, kill -9, power loss). Each is rolled back by running its journaled
 * compensations in reverse, or — if it was a resumable query whose body is
 * registered — re-run, taking over those compensations.
 */
import type { Logger } from '@libp2p/interface'
import type { CompensationRegistry } from './compensations.js'
import type { Journal, UndoRecord, UnfinishedTx } from './journal.js'
import type { RecoveryReport } from './types.js'

export interface RecoveryDeps {
  journal: Journal
  registry: CompensationRegistry
  log: Logger
  /** Ids running in this process: not interrupted, left alone. */
  active: ReadonlySet<string>
  /**
   * Re-runs a resumable transaction: undefined if it is not resumable (or its
   * body is not registered), so it is rolled back here; otherwise resolves
   * true if the re-run committed, false if it rolled back cleanly, and rejects
   * if its rollback left compensations behind.
   */
  resume: (tx: UnfinishedTx, records: readonly UndoRecord[]) => Promise<boolean> | undefined
}

export async function recoverJournal (deps: RecoveryDeps): Promise<RecoveryReport> {
  const { journal, registry, log, active } = deps
  const report: RecoveryReport = { rolledBack: [], resumed: [], failed: [] }
  for (const tx of await journal.unfinished()) {
    if (active.has(tx.id)) continue
    const first = tx.errors[0]
    if (first !== undefined) {
      // Undecodable records: we cannot know what to undo. Keep them for an operator.
      log.error('tx %s: journal record unreadable, left in place: %s', tx.id, first.message)
      report.failed.push({ txId: tx.id, error: first })
      continue
    }
    const records = tx.entries.filter((e): e is UndoRecord => e.t === 'undo')
    const resumed = deps.resume(tx, records)
    if (resumed !== undefined) {
      try {
        if (await resumed) report.resumed.push(tx.id)
        else report.rolledBack.push(tx.id)
      } catch (err) {
        report.failed.push({ txId: tx.id, error: err as Error })
      }
      continue
    }
    const errors: Error[] = []
    const done: number[] = []
    for (const record of [...records].reverse()) {
      try {
        await registry.run(record.kind, record.data, tx.id, record.step, log)
        done.push(record.seq)
      } catch (err) {
        errors.push(err as Error)
      }
    }
    const firstError = errors[0]
    if (firstError === undefined) {
      await journal.finish(tx.id)
      log('tx %s (%s) rolled back at recovery: %d compensations', tx.id, tx.header?.name ?? '?', records.length)
      report.rolledBack.push(tx.id)
    } else {
      await journal.remove(tx.id, done)
      log.error('tx %s: %d compensations failed at recovery, left in the journal', tx.id, errors.length)
      report.failed.push({ txId: tx.id, error: firstError })
    }
  }
  return report
}
