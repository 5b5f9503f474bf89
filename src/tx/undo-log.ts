/**
 * The undo log of one transaction: compensations in memory and, for durable
 * ones, in the journal (written before the effect they undo). Entries are run
 * in reverse registration order — a failed step's own entries as soon as it
 * fails (like a savepoint), all remaining ones when the transaction rolls back.
 */
import type { Logger } from '@libp2p/interface'
import { JOURNAL_VERSION } from './constants.js'
import { encodeData, type CompensationRegistry } from './compensations.js'
import { TxDefinitionError, UnknownCompensationError } from './errors.js'
import type { Journal, JournalEntry, TxHeader, UndoRecord } from './journal.js'
import type { StepRef } from './types.js'

/** One undo action; `seqs` are its journal entries (none for in-memory undos). */
export interface UndoEntry {
  readonly order: number
  readonly seqs: readonly number[]
  readonly run: () => Promise<void>
  readonly onCommit?: () => void
  done: boolean
}

/** Shares the effects of one joined request between its callers: undone only if none of them commits. */
export class SharedUndo {
  private remaining: number
  private kept = false
  private readonly undo: UndoLog

  constructor (undo: UndoLog, holders: number) {
    this.undo = undo
    this.remaining = holders
  }

  async release (commit: boolean): Promise<void> {
    this.kept ||= commit
    this.remaining--
    if (this.remaining === 0 && !this.kept) {
      const errors = await this.undo.runInMemory()
      if (errors.length > 0) throw errors[0]
    }
  }
}

export class UndoLog {
  readonly header: TxHeader
  private readonly journal: Journal
  private readonly registry: CompensationRegistry
  private readonly log: Logger
  private readonly entries: UndoEntry[] = []
  private readonly records: UndoRecord[] = []
  private nextSeq = 1
  private nextOrder = 1
  private closed = false
  private headerWritten = false
  /** Journal writes in flight: commit and rollback wait for them, so none lands after the transaction's end. */
  private readonly writes = new Set<Promise<void>>()

  constructor (header: TxHeader, journal: Journal, registry: CompensationRegistry, log: Logger) {
    this.header = header
    this.journal = journal
    this.registry = registry
    this.log = log
  }

  /** Entries not yet run. */
  get size (): number { return this.entries.filter((e) => !e.done).length }

  private checkOpen (): void {
    if (this.closed) throw new TxDefinitionError(`transaction ${this.header.id} already finished`)
  }

  private push (entry: Omit<UndoEntry, 'done'>): UndoEntry {
    const full: UndoEntry = { ...entry, done: false }
    this.entries.push(full)
    return full
  }

  /** Journals entries; the header goes with the first write only. */
  private async write (entries: readonly JournalEntry[]): Promise<void> {
    const withHeader = !this.headerWritten
    this.headerWritten = true
    const write = this.journal.write(this.header, entries, withHeader)
    this.writes.add(write)
    try {
      await write
    } catch (err) {
      if (withHeader) this.headerWritten = false
      throw err
    } finally {
      this.writes.delete(write)
    }
  }

  private async drain (): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes])
  }

  private runner (kind: string, data: unknown, step: StepRef): () => Promise<void> {
    return async () => { await this.registry.run(kind, data, this.header.id, step, this.log) }
  }

  /** Journals a compensation (fsync), then keeps it in memory. */
  async add (step: StepRef, kind: string, data: unknown): Promise<UndoEntry> {
    this.checkOpen()
    if (!this.registry.has(kind)) throw new UnknownCompensationError(kind)
    const json = encodeData(data)
    const record: UndoRecord = { v: JOURNAL_VERSION, t: 'undo', seq: this.nextSeq++, step, kind, data: JSON.parse(json) }
    const order = this.nextOrder++
    await this.write([record])
    this.records.push(record)
    return this.push({ order, seqs: [record.seq], run: this.runner(kind, record.data, step) })
  }

  addInMemory (run: () => Promise<void> | void): UndoEntry {
    this.checkOpen()
    return this.push({ order: this.nextOrder++, seqs: [], run: async () => { await run() } })
  }

  /** Journals copies of a joined request's records; in memory they are undone through `shared`. */
  async adopt (step: StepRef, records: readonly UndoRecord[], shared: SharedUndo): Promise<UndoEntry> {
    this.checkOpen()
    const copies = records.map((r): UndoRecord => ({ ...r, seq: this.nextSeq++, step }))
    const order = this.nextOrder++
    if (copies.length > 0) await this.write(copies)
    return this.push({
      order,
      seqs: copies.map((c) => c.seq),
      run: async () => { await shared.release(false) },
      onCommit: () => { shared.release(true).catch(() => {}) }
    })
  }

  /** Takes over a crashed transaction's records (already renumbered and journaled by `Journal.replace`). */
  adoptRecovered (records: readonly UndoRecord[]): void {
    for (const record of records) {
      this.nextSeq = Math.max(this.nextSeq, record.seq + 1)
      this.records.push(record)
      this.push({ order: this.nextOrder++, seqs: [record.seq], run: this.runner(record.kind, record.data, record.step) })
    }
  }

  /** Durable records, in order, for handing a joined request's effects to its callers. */
  durableRecords (): readonly UndoRecord[] { return this.records }

  /** Records that a step completed, with the undo entries it registered (only if it registered any). */
  async stepDone (step: StepRef, entries: readonly UndoEntry[], at: number): Promise<void> {
    const undo = entries.flatMap((e) => e.seqs)
    if (undo.length === 0 || this.closed) return
    await this.write([{ v: JOURNAL_VERSION, t: 'done', seq: this.nextSeq++, step, undo, at }])
  }

  /** Journals the header before anything runs (resumable queries). */
  async begin (): Promise<void> {
    await this.write([])
  }

  /** The header is already journaled (by `Journal.replace` for a resumed transaction). */
  markBegun (): void { this.headerWritten = true }

  /** Commit: the journal forgets the transaction, shared effects are kept. */
  async commit (): Promise<void> {
    this.checkOpen()
    this.closed = true
    await this.drain()
    await this.journal.finish(this.header.id)
    for (const entry of this.entries) if (!entry.done) entry.onCommit?.()
  }

  /** Forgets without running anything (a joined request handed its effects to its callers). */
  async forget (): Promise<void> {
    this.closed = true
    await this.drain()
    await this.journal.finish(this.header.id)
  }

  /** Runs entries not yet run, newest first, each attempted even if another fails. */
  private async runEntries (entries: readonly UndoEntry[]): Promise<{ errors: unknown[], seqs: number[] }> {
    const errors: unknown[] = []
    const seqs: number[] = []
    for (const entry of [...entries].filter((e) => !e.done).sort((a, b) => b.order - a.order)) {
      try {
        await entry.run()
        entry.done = true
        seqs.push(...entry.seqs)
      } catch (err) {
        errors.push(err)
        this.log.error('tx %s: compensation failed: %s', this.header.id, (err as Error).name)
      }
    }
    return { errors, seqs }
  }

  /** Undoes one failed step's entries now; failures stay for the transaction's rollback. */
  async rollbackStep (entries: readonly UndoEntry[]): Promise<void> {
    const { seqs } = await this.runEntries(entries)
    await this.journal.remove(this.header.id, seqs)
  }

  /** Runs every undo in memory; the journal is not touched. Returns failures. */
  async runInMemory (): Promise<unknown[]> {
    this.closed = true
    await this.drain()
    return (await this.runEntries(this.entries)).errors
  }

  /**
   * Rollback: every entry not yet run, in reverse. The journal is cleared only
   * if all succeeded; otherwise the failed entries stay for `recover()`.
   */
  async rollback (): Promise<unknown[]> {
    this.closed = true
    await this.drain()
    const { errors, seqs } = await this.runEntries(this.entries)
    if (errors.length === 0) await this.journal.finish(this.header.id)
    else await this.journal.remove(this.header.id, seqs)
    return errors
  }
}
