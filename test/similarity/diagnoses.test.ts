import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateSigner, keyId, signRecord, type AllowDecision, type Decision, type DenyDecision } from '../../src/sac/index.js'
import {
  createDiagnosis, DIAGNOSIS_RECORD, DiagnosisStore, MAX_DIAGNOSIS_CHARS, openDiagnosis
} from '../../src/similarity/index.js'
import { DiagnosisRefusedError, InvalidDiagnosisError } from '../../src/similarity/diagnoses.js'
import { tempDir } from '../helpers/tmp.js'

const doctor = generateSigner()
const other = generateSigner()
const LEAF = 'ab'.repeat(32)
const NOW = 1_750_000_000_000

function allow (lfn: string, over: Partial<AllowDecision> = {}): AllowDecision {
  return {
    allow: true,
    at: NOW,
    command: 'annotate',
    ability: 'annotate',
    remotePeer: 'peer-client',
    serverPeer: 'peer-master',
    resource: { contentId: 'cid', lfn },
    chainIds: ['cd'.repeat(32), LEAF],
    invocationId: 'ef'.repeat(32),
    requester: keyId(doctor.publicKey),
    subject: 'hospital',
    purpose: 'TREAT',
    expiresAt: NOW + 60_000,
    ...over
  }
}

const errorOf = async (p: Promise<unknown>): Promise<Error> => await p.then(() => new Error('no error'), (e: Error) => e)

describe('diagnosis records', () => {
  it('round-trip: signed by the author, fields as given, id over the signed message', () => {
    const r = createDiagnosis({ lfn: 'lfn-7', text: 'Dilated cardiomyopathy.\nLVEF 30 %.', certificateId: LEAF, time: NOW }, doctor)
    const d = openDiagnosis(r.bytes)
    expect(d).toMatchObject({ id: r.id, lfn: 'lfn-7', text: 'Dilated cardiomyopathy.\nLVEF 30 %.', time: NOW, certificateId: LEAF })
    expect(Buffer.compare(d.author, doctor.publicKey)).toBe(0)
    expect(d.id).toMatch(/^[0-9a-f]{64}$/)
  })

  it('refuses tampering, other record types, another signer than the author, and bad fields', () => {
    const r = createDiagnosis({ lfn: 'lfn-7', text: 'normal', certificateId: LEAF, time: NOW }, doctor)
    const flipped = Uint8Array.from(r.bytes)
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 1
    const name = (f: () => unknown): string => { try { f(); return 'no error' } catch (err) { return (err as Error).name } }
    expect(name(() => openDiagnosis(flipped))).toBe('InvalidDiagnosisError')
    // signed by someone else while naming the doctor as author
    const forged = signRecord(DIAGNOSIS_RECORD, { lfn: 'lfn-7', text: 'x', author: doctor.publicKey, time: NOW, certificate: new Uint8Array(32) }, other)
    expect(name(() => openDiagnosis(forged.bytes))).toBe('InvalidDiagnosisError')
    const extra = signRecord(DIAGNOSIS_RECORD, { lfn: 'lfn-7', text: 'x', author: doctor.publicKey, time: NOW, certificate: new Uint8Array(32), icd: 'I42' }, doctor)
    expect(name(() => openDiagnosis(extra.bytes))).toBe('InvalidDiagnosisError')
    for (const text of ['', 'x'.repeat(MAX_DIAGNOSIS_CHARS + 1), 'bell\x07', 'esc\x1b[31m', 'lone \ud800 surrogate']) {
      expect(name(() => createDiagnosis({ lfn: 'lfn-7', text, certificateId: LEAF }, doctor))).toBe('InvalidDiagnosisError')
    }
    expect(name(() => createDiagnosis({ lfn: 'has space', text: 'x', certificateId: LEAF }, doctor))).toBe('InvalidDiagnosisError')
    expect(name(() => createDiagnosis({ lfn: 'lfn-7', text: 'x', certificateId: 'nothex' }, doctor))).toBe('InvalidDiagnosisError')
    // the longest text, with tabs and astral characters, fits the record size cap
    const long = createDiagnosis({ lfn: 'l'.repeat(256), text: '\t🫀'.repeat(600) + '€'.repeat(MAX_DIAGNOSIS_CHARS - 1800), certificateId: LEAF }, doctor)
    expect(openDiagnosis(long.bytes).text.length).toBe(MAX_DIAGNOSIS_CHARS)
  })
})

describe('diagnosis store (LevelDB)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let db: Level<string, Uint8Array>
  let store: DiagnosisStore
  const open = (maxPerLfn?: number): DiagnosisStore => new DiagnosisStore({
    db: db.sublevel<string, Uint8Array>('diagnoses', { valueEncoding: 'view' }),
    clock: () => NOW,
    ...(maxPerLfn === undefined ? {} : { maxPerLfn })
  })

  beforeEach(async () => {
    dir = await tempDir()
    db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
    store = open()
  })
  afterEach(async () => {
    await db.close()
    await dir.remove()
  })

  it('stores per LFN, oldest first, idempotently, and survives a reopen', async () => {
    const a = createDiagnosis({ lfn: 'lfn-1', text: 'first', certificateId: LEAF, time: NOW - 2000 }, doctor)
    const b = createDiagnosis({ lfn: 'lfn-1', text: 'second', certificateId: LEAF, time: NOW - 1000 }, doctor)
    const c = createDiagnosis({ lfn: 'lfn-10', text: 'another file', certificateId: LEAF, time: NOW }, doctor)
    await store.add(b.bytes, allow('lfn-1'))
    await store.add(a.bytes, allow('lfn-1'))
    await store.add(c.bytes, allow('lfn-10'))
    expect((await store.add(a.bytes, allow('lfn-1'))).id).toBe(a.id)
    expect((await store.get('lfn-1')).map(d => d.text)).toEqual(['first', 'second'])
    expect((await store.latest('lfn-1'))?.text).toBe('second')
    expect((await store.get('lfn-10')).map(d => d.id)).toEqual([c.id])
    expect(await store.get('lfn-2')).toEqual([])
    expect(await store.latest('lfn-2')).toBeUndefined()
    await db.close()
    db = new Level<string, Uint8Array>(dir.path, { valueEncoding: 'view' })
    const reopened = open()
    const back = await reopened.get('lfn-1')
    expect(back.map(d => [d.id, d.text, d.time])).toEqual([[a.id, 'first', NOW - 2000], [b.id, 'second', NOW - 1000]])
    expect(Buffer.compare(back[0]!.author, doctor.publicKey)).toBe(0)
  })

  it('refuses a record the decision does not back, and writes nothing', async () => {
    const r = createDiagnosis({ lfn: 'lfn-1', text: 'x', certificateId: LEAF, time: NOW }, doctor)
    const deny: DenyDecision = { ...allow('lfn-1'), allow: false, reason: 'ABILITY_MISSING', detail: '' } as unknown as DenyDecision
    const cases: Array<[Decision, string]> = [
      [deny, 'NOT_ALLOWED'],
      [allow('lfn-1', { ability: 'similarity' }), 'NOT_ALLOWED'],
      [allow('lfn-2'), 'WRONG_LFN'],
      [allow('lfn-1', { requester: keyId(other.publicKey) }), 'WRONG_AUTHOR'],
      [allow('lfn-1', { chainIds: [LEAF, 'cd'.repeat(32)] }), 'WRONG_CERTIFICATE']
    ]
    for (const [decision, reason] of cases) {
      const err = await errorOf(store.add(r.bytes, decision))
      expect(err.name).toBe('DiagnosisRefusedError')
      expect((err as DiagnosisRefusedError).reason).toBe(reason)
    }
    for (const time of [NOW + 5 * 60_000, NOW - 60 * 60_000]) {
      const stale = createDiagnosis({ lfn: 'lfn-1', text: 'x', certificateId: LEAF, time }, doctor)
      expect(await errorOf(store.add(stale.bytes, allow('lfn-1')))).toMatchObject({ name: 'DiagnosisRefusedError', reason: 'STALE' })
    }
    expect(await errorOf(store.add(new Uint8Array([1, 2, 3]), allow('lfn-1')))).toBeInstanceOf(InvalidDiagnosisError)
    expect(await store.get('lfn-1')).toEqual([])
  })

  it('keeps at most maxPerLfn diagnoses per LFN, even when added concurrently', async () => {
    const small = open(3)
    const records = Array.from({ length: 6 }, (_, i) => createDiagnosis({ lfn: 'lfn-1', text: `note ${i}`, certificateId: LEAF, time: NOW - i }, doctor))
    const outcomes = await Promise.allSettled(records.map(async r => await small.add(r.bytes, allow('lfn-1'))))
    expect(outcomes.filter(o => o.status === 'fulfilled')).toHaveLength(3)
    for (const o of outcomes.filter(o => o.status === 'rejected')) expect((o as PromiseRejectedResult).reason).toMatchObject({ reason: 'TOO_MANY' })
    expect(await small.get('lfn-1')).toHaveLength(3)
  })
})
