/**
 * The durable journal: one header per unfinished transaction and its entries
 * (write-ahead compensations, step completions), in a level sublevel, written
 * with fsync. Committing or rolling back deletes them all in one batch.
 *
 * Keys: `<txId>` → header, `<txId>~<seq>` → entry. Transaction ids are of fixed
 * length over `[0-9a-z-]`, so `[txId, txId + '\x7f')` holds exactly one
 * transaction's keys.
 */
import { randomBytes } from 'node:crypto'
import { JOURNAL_SEQ_WIDTH, JOURNAL_VERSION, MAX_JOURNAL_RECORD_BYTES } from './constants.js'
import { JournalRecordError } from './errors.js'
import type { JournalOperation, JournalStore, StepKind, StepRef } from './types.js'

export interface TxHeader {
  v: number
  id: string
  name: string
  startedAt: number
  /** Present on resumable queries: recovery re-runs the registered body with this input. */
  resume?: { kind: string, input: unknown }
}

export interface UndoRecord {
  v: number
  t: 'undo'
  seq: number
  step: StepRef
  kind: string
  data: unknown
}

export interface DoneRecord {
  v: number
  t: 'done'
  seq: number
  step: StepRef
  /** The undo entries this step registered. */
  undo: number[]
  at: number
}

export type JournalEntry = UndoRecord | DoneRecord

/** One unfinished transaction as read back; `header` is missing only if it was lost or corrupt. */
export interface UnfinishedTx {
  id: string
  header?: TxHeader
  entries: JournalEntry[]
  errors: JournalRecordError[]
}

const ENTRY_SEPARATOR = '~'
const STEP_KINDS: ReadonlySet<string> = new Set<StepKind>(['query', 'task', 'request', 'tool'])

/** A new transaction id: time first (ids sort by start), then 48 random bits. */
export function newTxId (now: number): string {
  return `${Math.max(0, Math.floor(now)).toString(36).padStart(10, '0')}-${randomBytes(6).toString('hex')}`
}

export function entryKey (txId: string, seq: number): string {
  return `${txId}${ENTRY_SEPARATOR}${seq.toString().padStart(JOURNAL_SEQ_WIDTH, '0')}`
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStepRef (value: unknown): value is StepRef {
  return isRecord(value) && typeof value.kind === 'string' && STEP_KINDS.has(value.kind) && typeof value.name === 'string'
}

/** Decodes one record; every field checked, size capped before parsing. */
export function decodeRecord (key: string, value: string): TxHeader | JournalEntry {
  if (value.length > MAX_JOURNAL_RECORD_BYTES) throw new JournalRecordError(key, 'too large')
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new JournalRecordError(key, 'not JSON')
  }
  if (!isRecord(parsed)) throw new JournalRecordError(key, 'not an object')
  if (parsed.v !== JOURNAL_VERSION) throw new JournalRecordError(key, `unknown version ${String(parsed.v)}`)
  const isEntry = key.includes(ENTRY_SEPARATOR)
  if (!isEntry) {
    const { id, name, startedAt, resume } = parsed
    if (typeof id !== 'string' || typeof name !== 'string' || typeof startedAt !== 'number') {
      throw new JournalRecordError(key, 'malformed header')
    }
    if (resume !== undefined && !(isRecord(resume) && typeof resume.kind === 'string')) {
      throw new JournalRecordError(key, 'malformed resume')
    }
    return parsed as unknown as TxHeader
  }
  if (typeof parsed.seq !== 'number' || !isStepRef(parsed.step)) throw new JournalRecordError(key, 'malformed entry')
  if (parsed.t === 'undo' && typeof parsed.kind === 'string') return parsed as unknown as UndoRecord
  if (parsed.t === 'done' && Array.isArray(parsed.undo)) return parsed as unknown as DoneRecord
  throw new JournalRecordError(key, 'unknown entry type')
}

export class Journal {
  private readonly db: JournalStore
  private readonly sync: boolean

  constructor (db: JournalStore, sync = true) {
    this.db = db
    this.sync = sync
  }

  /**
   * Writes entries, with the header if asked (the first write of a
   * transaction), in one atomic batch. An entry whose header is missing is
   * still recovered: it is rolled back, never resumed.
   */
  async write (header: TxHeader, entries: readonly JournalEntry[] = [], withHeader = true): Promise<void> {
    const ops: JournalOperation[] = withHeader ? [{ type: 'put', key: header.id, value: JSON.stringify(header) }] : []
    for (const entry of entries) ops.push({ type: 'put', key: entryKey(header.id, entry.seq), value: JSON.stringify(entry) })
    await this.db.batch(ops, { sync: this.sync })
  }

  /** Deletes some entries of a transaction. */
  async remove (txId: string, seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return
    await this.db.batch(seqs.map((seq) => ({ type: 'del', key: entryKey(txId, seq) })), { sync: this.sync })
  }

  /** Deletes a transaction's header and entries (commit, or rollback done). */
  async finish (txId: string, extra: readonly JournalOperation[] = []): Promise<void> {
    const ops: JournalOperation[] = [...extra]
    for await (const [key] of this.db.iterator({ gte: txId, lt: `${txId}\x7f` })) ops.push({ type: 'del', key })
    if (ops.length > 0) await this.db.batch(ops, { sync: this.sync })
  }

  /**
   * Replaces one transaction by another in one atomic batch: the resumed
   * transaction takes over the old one's undo entries (renumbered).
   */
  async replace (oldId: string, header: TxHeader, entries: readonly JournalEntry[]): Promise<void> {
    const puts: JournalOperation[] = [{ type: 'put', key: header.id, value: JSON.stringify(header) }]
    for (const entry of entries) puts.push({ type: 'put', key: entryKey(header.id, entry.seq), value: JSON.stringify(entry) })
    await this.finish(oldId, puts)
  }

  /** Every transaction the journal holds, grouped, entries in sequence order. */
  async unfinished (): Promise<UnfinishedTx[]> {
    const byId = new Map<string, UnfinishedTx>()
    for await (const [key, value] of this.db.iterator({})) {
      const sep = key.indexOf(ENTRY_SEPARATOR)
      const id = sep === -1 ? key : key.slice(0, sep)
      let tx = byId.get(id)
      if (tx === undefined) {
        tx = { id, entries: [], errors: [] }
        byId.set(id, tx)
      }
      try {
        const record = decodeRecord(key, value)
        if ('t' in record) tx.entries.push(record)
        else tx.header = record
      } catch (err) {
        if (err instanceof JournalRecordError) tx.errors.push(err)
        else throw err
      }
    }
    for (const tx of byId.values()) tx.entries.sort((a, b) => a.seq - b.seq)
    return [...byId.values()]
  }
}
