/**
 * The audit log: every access decision (allow and deny) appended to a
 * hash-chained log in LevelDB with synced writes. The head (last sequence
 * number and hash) is signed with the node's key on every synced batch, so removing
 * entries at the end is detected too — unless the whole log is rolled back to
 * an earlier signed state, which only an external copy of the head can reveal
 * (`verify()` returns the head so operators can record it elsewhere).
 */
import { decodeCbor, encodeCbor } from '../codec/cbor.js'
import { checkDecision, decodeStored, encodeStored, hashEntry, headMessage, type AuditDecision, type AuditEntry, type StoredEntry } from './entry.js'

/** The level sublevel the log lives in (string keys, byte values). */
export interface AuditStore {
  get: (key: string) => Promise<Uint8Array | undefined>
  batch: (ops: Array<{ type: 'put', key: string, value: Uint8Array }>, options?: { sync?: boolean }) => Promise<void>
  iterator: (options: { gt?: string, lt?: string }) => AsyncIterable<[string, Uint8Array]>
}

export interface AuditSigner {
  sign: (message: Uint8Array) => Promise<Uint8Array> | Uint8Array
  verify: (message: Uint8Array, signature: Uint8Array) => Promise<boolean> | boolean
}

export interface AuditLogInit {
  store: AuditStore
  signer: AuditSigner
  now?: () => number
}

export interface AuditHead {
  seq: number
  hash: string
}

export type AuditProblem =
  | { kind: 'altered', seq: number }
  | { kind: 'missing', seq: number }
  | { kind: 'broken-link', seq: number }
  | { kind: 'head-mismatch', seq: number }
  | { kind: 'bad-head-signature' }

export interface AuditVerification {
  ok: boolean
  entries: number
  head?: AuditHead
  problems: AuditProblem[]
}

const HEAD_KEY = 'head'
const ENTRY_PREFIX = 'e:'
const entryKey = (seq: number): string => `${ENTRY_PREFIX}${seq.toString().padStart(16, '0')}`

interface Pending {
  decision: AuditDecision
  resolve: (stored: StoredEntry) => void
  reject: (err: unknown) => void
}

/** Most entries written in one synced batch (group commit). */
const MAX_GROUP = 256

export class AuditLog {
  private readonly init: AuditLogInit
  /** Decisions waiting for the next synced batch. */
  private pending: Pending[] = []
  /** The batch being written, if any: appends made meanwhile go in the next one. */
  private writing?: Promise<void>

  constructor (init: AuditLogInit) {
    this.init = init
  }

  async head (): Promise<AuditHead | undefined> {
    const bytes = await this.init.store.get(HEAD_KEY)
    if (bytes === undefined) return undefined
    const { seq, hash } = decodeCbor(bytes, 4096) as { seq: number, hash: string }
    return { seq, hash }
  }

  /**
   * Appends one decision; resolves once it is durably written. Appends made
   * while a batch is being synced are chained and written together in the
   * next one (group commit: one fsync and one head signature for all of them,
   * so a busy node does not queue behind one fsync per decision).
   */
  async append (decision: AuditDecision): Promise<StoredEntry> {
    checkDecision(decision)
    return await new Promise<StoredEntry>((resolve, reject) => {
      this.pending.push({ decision, resolve, reject })
      this.writing ??= this.drain()
    })
  }

  private async drain (): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, MAX_GROUP)
        try {
          const stored = await this.write(group.map(p => p.decision))
          group.forEach((p, i) => { p.resolve(stored[i] as StoredEntry) })
        } catch (err) {
          for (const p of group) p.reject(err)
        }
      }
    } finally {
      this.writing = undefined
    }
  }

  private async write (decisions: AuditDecision[]): Promise<StoredEntry[]> {
    const head = await this.head()
    let seq = head?.seq ?? 0
    let prev = head?.hash ?? ''
    const time = this.init.now?.() ?? Date.now()
    const stored: StoredEntry[] = decisions.map(decision => {
      const entry: AuditEntry = { ...decision, chain: [...decision.chain], seq: ++seq, time, prev }
      const s: StoredEntry = { entry, hash: hashEntry(entry) }
      prev = s.hash
      return s
    })
    const last = stored[stored.length - 1] as StoredEntry
    const sig = await this.init.signer.sign(headMessage(last.entry.seq, last.hash))
    await this.init.store.batch([
      ...stored.map(s => ({ type: 'put' as const, key: entryKey(s.entry.seq), value: encodeStored(s) })),
      { type: 'put', key: HEAD_KEY, value: encodeCbor({ seq: last.entry.seq, hash: last.hash, sig }) }
    ], { sync: true })
    return stored
  }

  /** Entries in order, optionally from a sequence number. */
  async * entries (fromSeq = 1): AsyncGenerator<StoredEntry> {
    for await (const [, value] of this.init.store.iterator({ gt: entryKey(fromSeq - 1), lt: `${ENTRY_PREFIX}~` })) {
      yield decodeStored(value)
    }
  }

  /** Recomputes the whole chain; reports every altered, missing or re-linked entry. */
  async verify (): Promise<AuditVerification> {
    const problems: AuditProblem[] = []
    let expectedSeq = 1
    let prevHash = ''
    let count = 0
    for await (const [key, value] of this.init.store.iterator({ gt: ENTRY_PREFIX, lt: `${ENTRY_PREFIX}~` })) {
      count++
      const seq = Number(key.slice(ENTRY_PREFIX.length))
      let stored: StoredEntry
      try {
        stored = decodeStored(value)
      } catch {
        problems.push({ kind: 'altered', seq })
        expectedSeq = seq + 1
        prevHash = ''
        continue
      }
      for (let s = expectedSeq; s < seq; s++) problems.push({ kind: 'missing', seq: s })
      if (stored.entry.seq !== seq || hashEntry(stored.entry) !== stored.hash) problems.push({ kind: 'altered', seq })
      else if (stored.entry.prev !== prevHash && seq === expectedSeq) problems.push({ kind: 'broken-link', seq })
      expectedSeq = seq + 1
      prevHash = stored.hash
    }
    const raw = await this.init.store.get(HEAD_KEY)
    let head: AuditHead | undefined
    if (raw !== undefined) {
      const h = decodeCbor(raw, 4096) as { seq: number, hash: string, sig: Uint8Array }
      head = { seq: h.seq, hash: h.hash }
      if (!await this.init.signer.verify(headMessage(h.seq, h.hash), h.sig)) problems.push({ kind: 'bad-head-signature' })
      for (let s = expectedSeq; s <= h.seq; s++) problems.push({ kind: 'missing', seq: s })
      if (h.seq !== expectedSeq - 1 || h.hash !== prevHash) problems.push({ kind: 'head-mismatch', seq: h.seq })
    } else if (count > 0) {
      problems.push({ kind: 'head-mismatch', seq: 0 })
    }
    return head === undefined ? { ok: problems.length === 0, entries: count, problems } : { ok: problems.length === 0, entries: count, head, problems }
  }
}
