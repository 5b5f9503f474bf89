/**
 * The audit log: every access decision (allow and deny) appended to a
 * hash-chained log in LevelDB with synced writes. The head (last sequence
 * number and hash) is signed with the node's key on every append, so removing
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

export class AuditLog {
  private readonly init: AuditLogInit
  /** Appends are serialized: each entry needs the hash of the one before. */
  private tail: Promise<unknown> = Promise.resolve()

  constructor (init: AuditLogInit) {
    this.init = init
  }

  async head (): Promise<AuditHead | undefined> {
    const bytes = await this.init.store.get(HEAD_KEY)
    if (bytes === undefined) return undefined
    const { seq, hash } = decodeCbor(bytes, 4096) as { seq: number, hash: string }
    return { seq, hash }
  }

  /** Appends one decision; resolves once it is durably written. */
  async append (decision: AuditDecision): Promise<StoredEntry> {
    checkDecision(decision)
    const run = this.tail.then(async () => await this.write(decision))
    this.tail = run.catch(() => {})
    return await run
  }

  private async write (decision: AuditDecision): Promise<StoredEntry> {
    const head = await this.head()
    const entry: AuditEntry = {
      ...decision,
      chain: [...decision.chain],
      seq: head === undefined ? 1 : head.seq + 1,
      time: this.init.now?.() ?? Date.now(),
      prev: head?.hash ?? ''
    }
    const stored: StoredEntry = { entry, hash: hashEntry(entry) }
    const sig = await this.init.signer.sign(headMessage(entry.seq, stored.hash))
    await this.init.store.batch([
      { type: 'put', key: entryKey(entry.seq), value: encodeStored(stored) },
      { type: 'put', key: HEAD_KEY, value: encodeCbor({ seq: entry.seq, hash: stored.hash, sig }) }
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
