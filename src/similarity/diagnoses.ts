/**
 * Diagnoses attached to an LFN (paper §2.3: "stores his own diagnosis"): a
 * clinician signs a small record — LFN, free text, author key, time and the
 * id of the certificate proving the `annotate` right — and the LFN's master
 * site keeps it, after an access check, in a level sublevel next to the
 * descriptive metadata. Later similarity queries show the text to requesters
 * whose chain grants `meta/read`.
 *
 * Records are signed envelopes of their own type (domain-separated from every
 * other DM² record); the store checks the signature once, on `add`, and that
 * the record matches the allowing decision (same LFN, author = invoker, the
 * leaf certificate), then writes it synced. Reads trust the site's own writes.
 *
 * @example
 * ```ts
 * const store = new DiagnosisStore({ db: db.sublevel('diagnoses', { valueEncoding: 'view' }) })
 * const record = createDiagnosis({ lfn, text: 'dilated cardiomyopathy', certificateId: leaf.id }, doctor)
 * await store.add(record.bytes, decision)            // decision: the access check's allow for `annotate`
 * const [first] = await store.get(lfn)               // { text, author, time, certificateId, … }
 * ```
 */
import {
  decodeCanonical, decodeEnvelope, defineRecordType, keyId, recordId, signRecord, verifyRecord,
  type Decision, type Signer
} from '../sac/index.js'

/** Longest diagnosis text, in UTF-16 code units (a short clinical note, not a report). */
export const MAX_DIAGNOSIS_CHARS = 2000
/** Diagnoses kept per LFN; more are refused (bounded reads per candidate). */
export const MAX_DIAGNOSES_PER_LFN = 64
/** How far a record's time may be ahead of the site's clock (clock skew), ms. */
export const DIAGNOSIS_SKEW_MS = 60_000
/** How old a record may be when it arrives: it is signed just before the request, ms. */
export const DIAGNOSIS_MAX_AGE_MS = 10 * 60_000
/** 2000 characters of UTF-8 (≤ 3 bytes each within the BMP, 4 for pairs) + fields + envelope. */
export const MAX_DIAGNOSIS_BYTES = 8 * 1024

export const DIAGNOSIS_RECORD = defineRecordType({
  type: 'dm2/diagnosis', version: 1, context: 'DM2 diagnosis record v1', maxBytes: MAX_DIAGNOSIS_BYTES
})

/** LFNs as the access-control descriptors accept them (printable ASCII, no space). */
const LFN = /^[\x21-\x7e]{1,256}$/

/**
 * Refuses C0 controls other than tab, LF and CR, and DEL (no terminal tricks
 * in a note shown to others), and lone UTF-16 surrogates (not Unicode text).
 */
function plainText (s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1)
      if (!(n >= 0xdc00 && n <= 0xdfff)) return false
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false
    }
  }
  return true
}

/** A record's content is malformed (fields, size, signature); nothing was stored. */
export class InvalidDiagnosisError extends Error {
  static override name = 'InvalidDiagnosisError'
  constructor (problem: string) {
    super(`diagnosis: ${problem}`)
    this.name = 'InvalidDiagnosisError'
  }
}

/** A well-formed record the store refuses (no matching allow, stale, too many); nothing was stored. */
export class DiagnosisRefusedError extends Error {
  static override name = 'DiagnosisRefusedError'
  /** Machine-readable: NOT_ALLOWED, WRONG_LFN, WRONG_AUTHOR, WRONG_CERTIFICATE, STALE, TOO_MANY. */
  readonly reason: string
  constructor (reason: string, problem: string) {
    super(`diagnosis refused (${reason}): ${problem}`)
    this.name = 'DiagnosisRefusedError'
    this.reason = reason
  }
}

export interface DiagnosisFields {
  lfn: string
  text: string
  /** Hex id of the leaf certificate granting `annotate` (the one the invocation names). */
  certificateId: string
  /** ms since the epoch; default now. */
  time?: number
}

/** A diagnosis record, verified (on add) or read back from the site's own store. */
export interface Diagnosis {
  /** Record id: hex SHA-256 of the signed message. */
  id: string
  lfn: string
  text: string
  /** Raw Ed25519 key of the author (the signer). */
  author: Uint8Array
  /** ms since the epoch. */
  time: number
  certificateId: string
  /** The signed envelope, as received. */
  bytes: Uint8Array
}

function checkText (text: unknown): string {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_DIAGNOSIS_CHARS) {
    throw new InvalidDiagnosisError(`text must be 1…${MAX_DIAGNOSIS_CHARS} characters`)
  }
  if (!plainText(text)) throw new InvalidDiagnosisError('text contains control characters or is not well-formed Unicode')
  return text
}

function checkFields (value: unknown): { lfn: string, text: string, author: Uint8Array, time: number, certificate: Uint8Array } {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw new InvalidDiagnosisError('payload is not a map')
  const m = value as Record<string, unknown>
  if (Object.keys(m).sort().join(',') !== 'author,certificate,lfn,text,time') throw new InvalidDiagnosisError('payload must have exactly lfn, text, author, time, certificate')
  if (typeof m.lfn !== 'string' || !LFN.test(m.lfn)) throw new InvalidDiagnosisError('lfn is not a logical file name')
  if (!(m.author instanceof Uint8Array) || m.author.length !== 32) throw new InvalidDiagnosisError('author must be a 32-byte key')
  if (!(m.certificate instanceof Uint8Array) || m.certificate.length !== 32) throw new InvalidDiagnosisError('certificate must be a 32-byte id')
  if (typeof m.time !== 'number' || !Number.isSafeInteger(m.time) || m.time < 0) throw new InvalidDiagnosisError('time must be ms since the epoch')
  return { lfn: m.lfn, text: checkText(m.text), author: m.author, time: m.time, certificate: m.certificate }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Signs a diagnosis as `signer` (the author). Throws InvalidDiagnosisError on bad fields. */
export function createDiagnosis (fields: DiagnosisFields, signer: Signer): { bytes: Uint8Array, id: string } {
  if (!/^[0-9a-f]{64}$/.test(fields.certificateId)) throw new InvalidDiagnosisError('certificateId must be 64 hex digits')
  const payload = {
    lfn: fields.lfn,
    text: fields.text,
    author: signer.publicKey,
    time: fields.time ?? Date.now(),
    certificate: Uint8Array.from(Buffer.from(fields.certificateId, 'hex'))
  }
  checkFields(payload)
  return signRecord(DIAGNOSIS_RECORD, payload, signer)
}

/** Verifies a record's envelope, signature (by its author) and fields. Throws InvalidDiagnosisError. */
export function openDiagnosis (bytes: Uint8Array): Diagnosis {
  let record
  try {
    record = verifyRecord(bytes, DIAGNOSIS_RECORD)
  } catch (err) {
    throw new InvalidDiagnosisError(`record rejected (${(err as Error).name})`)
  }
  const f = checkFields(record.value)
  if (Buffer.compare(record.signer, f.author) !== 0) throw new InvalidDiagnosisError('signed by another key than its author')
  return { id: record.id, lfn: f.lfn, text: f.text, author: f.author, time: f.time, certificateId: hex(f.certificate), bytes: record.bytes }
}

/** Reads back a record the site stored itself (already verified on add): no signature check. */
function readStored (bytes: Uint8Array): Diagnosis {
  const envelope = decodeEnvelope(bytes, MAX_DIAGNOSIS_BYTES)
  const f = checkFields(decodeCanonical(envelope.payload, MAX_DIAGNOSIS_BYTES))
  return { id: recordId(DIAGNOSIS_RECORD, envelope.payload), lfn: f.lfn, text: f.text, author: f.author, time: f.time, certificateId: hex(f.certificate), bytes }
}

/** The sublevel the store lives in (string keys, byte values), e.g. `db.sublevel('diagnoses', { valueEncoding: 'view' })`. */
export interface DiagnosisDb {
  put: (key: string, value: Uint8Array, options?: { sync?: boolean }) => Promise<void>
  iterator: (options: { gt: string, lt: string, limit?: number }) => AsyncIterable<[string, Uint8Array]>
}

export interface DiagnosisStoreInit {
  db: DiagnosisDb
  /** ms since the epoch; injectable for tests. */
  clock?: () => number
  maxPerLfn?: number
}

/**
 * Key: lfn, NUL, zero-padded time, NUL, id. LFNs are printable ASCII, so NUL
 * ends the LFN part and one LFN's records are one ordered range, oldest first.
 */
const keyOf = (d: Diagnosis): string => `${d.lfn}\x00${String(d.time).padStart(16, '0')}\x00${d.id}`

/** Diagnoses per LFN, at the LFN's master site. */
export class DiagnosisStore {
  private readonly init: DiagnosisStoreInit
  /** Serializes adds per LFN, so the per-LFN count cannot be raced past. */
  private readonly pending = new Map<string, Promise<unknown>>()

  constructor (init: DiagnosisStoreInit) {
    this.init = init
  }

  /**
   * Verifies `record` and stores it if `decision` is the access check's allow
   * of `annotate` for this record's LFN, invoked by its author under the
   * certificate it names. Resolves the stored diagnosis (the same one again
   * for a record already stored). Throws InvalidDiagnosisError or
   * DiagnosisRefusedError, having changed nothing.
   */
  async add (record: Uint8Array, decision: Decision): Promise<Diagnosis> {
    const d = openDiagnosis(record)
    if (!decision.allow || decision.ability !== 'annotate') throw new DiagnosisRefusedError('NOT_ALLOWED', 'no allowing decision for annotate')
    if (decision.resource.lfn !== d.lfn) throw new DiagnosisRefusedError('WRONG_LFN', 'the decision is for another LFN')
    if (decision.requester !== keyId(d.author)) throw new DiagnosisRefusedError('WRONG_AUTHOR', 'the author did not make the request')
    if (decision.chainIds[decision.chainIds.length - 1] !== d.certificateId) throw new DiagnosisRefusedError('WRONG_CERTIFICATE', 'the record names another certificate than the chain\'s leaf')
    const now = this.init.clock?.() ?? Date.now()
    if (d.time > now + DIAGNOSIS_SKEW_MS || d.time < now - DIAGNOSIS_MAX_AGE_MS) throw new DiagnosisRefusedError('STALE', 'record time too far from now')
    const previous = this.pending.get(d.lfn) ?? Promise.resolve()
    const run = previous.catch(() => {}).then(async () => await this.store(d))
    this.pending.set(d.lfn, run)
    try {
      return await run
    } finally {
      if (this.pending.get(d.lfn) === run) this.pending.delete(d.lfn)
    }
  }

  private async store (d: Diagnosis): Promise<Diagnosis> {
    const existing = await this.get(d.lfn)
    const same = existing.find(e => e.id === d.id)
    if (same !== undefined) return same
    const max = this.init.maxPerLfn ?? MAX_DIAGNOSES_PER_LFN
    if (existing.length >= max) throw new DiagnosisRefusedError('TOO_MANY', `an LFN keeps at most ${max} diagnoses`)
    // Synced: an acknowledged diagnosis survives a crash of the site.
    await this.init.db.put(keyOf(d), d.bytes, { sync: true })
    return d
  }

  /** The diagnoses of an LFN, oldest first. */
  async get (lfn: string): Promise<Diagnosis[]> {
    if (typeof lfn !== 'string' || !LFN.test(lfn)) return []
    const out: Diagnosis[] = []
    const limit = (this.init.maxPerLfn ?? MAX_DIAGNOSES_PER_LFN) + 1
    for await (const [, value] of this.init.db.iterator({ gt: `${lfn}\x00`, lt: `${lfn}\x01`, limit })) out.push(readStored(value))
    return out
  }

  /** The most recent diagnosis of an LFN, if any (what similarity results show). */
  async latest (lfn: string): Promise<Diagnosis | undefined> {
    const all = await this.get(lfn)
    return all[all.length - 1]
  }
}
