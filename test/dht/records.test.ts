import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { encodeCbor, decodeCbor } from '../../src/codec/cbor.js'
import {
  lfnKey, openLfnRecord, RecordValidator, signLfnRecord, signSiteRecord, siteKey, type LfnRecord
} from '../../src/dht/index.js'

const NOW = 1_800_000_000_000

async function member (): Promise<{ key: PrivateKey, id: string }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

function lfnRecord (master: string, over: Partial<LfnRecord> = {}): LfnRecord {
  return {
    lfn: 'lfn-abc123',
    master,
    version: 1,
    contentId: new Uint8Array(32).fill(7),
    manifestHash: new Uint8Array(32).fill(9),
    meta: { modality: 'CT', bodyPart: 'HEART', slices: 3 },
    issuedAt: NOW - 1000,
    expiresAt: NOW + 3_600_000,
    ...over
  }
}

function memoryKv (): { get: (k: string) => Promise<Uint8Array | undefined>, put: (k: string, v: Uint8Array) => Promise<void> } {
  const m = new Map<string, Uint8Array>()
  return { get: async k => m.get(k), put: async (k, v) => { m.set(k, v) } }
}

describe('signed LFN records', () => {
  it('round-trip and verify', async () => {
    const a = await member()
    const signed = await signLfnRecord(lfnRecord(a.id), a.key)
    const opened = await openLfnRecord(signed.bytes, NOW)
    expect(opened).toMatchObject({ lfn: 'lfn-abc123', master: a.id, version: 1, meta: { modality: 'CT' } })
  })

  it('refuse a record signed by someone other than its master', async () => {
    const a = await member()
    const b = await member()
    const forged = await signLfnRecord(lfnRecord(a.id), b.key)
    await expect(openLfnRecord(forged.bytes, NOW)).rejects.toMatchObject({ name: 'InvalidRecordError', reason: 'bad signature' })
  })

  it('refuse any altered byte', async () => {
    const a = await member()
    const { bytes } = await signLfnRecord(lfnRecord(a.id), a.key)
    for (let i = 0; i < bytes.byteLength; i += 7) {
      const copy = new Uint8Array(bytes)
      copy[i] = (copy[i] ?? 0) ^ 0x01
      await expect(openLfnRecord(copy, NOW)).rejects.toMatchObject({ name: 'InvalidRecordError' })
    }
  })

  it('refuse expired, future, unknown-field and non-canonical records', async () => {
    const a = await member()
    await expect(openLfnRecord((await signLfnRecord(lfnRecord(a.id, { expiresAt: NOW - 1 }), a.key)).bytes, NOW)).rejects.toMatchObject({ reason: 'expired' })
    await expect(openLfnRecord((await signLfnRecord(lfnRecord(a.id, { issuedAt: NOW + 3_600_000, expiresAt: NOW + 7_200_000 }), a.key)).bytes, NOW)).rejects.toMatchObject({ reason: 'issued in the future' })
    const extra = { ...lfnRecord(a.id), patientName: 'DOE^JOHN' } as unknown as LfnRecord
    await expect(openLfnRecord((await signLfnRecord(extra, a.key)).bytes, NOW)).rejects.toMatchObject({ name: 'InvalidRecordError' })
    const { bytes } = await signLfnRecord(lfnRecord(a.id), a.key)
    const outer = decodeCbor(bytes, 1 << 16) as { body: Uint8Array, sig: Uint8Array }
    // The same body and signature with the map keys out of canonical order.
    const bstr = (b: Uint8Array): number[] => [0x59, b.byteLength >> 8, b.byteLength & 0xff, ...b]
    const text = (t: string): number[] => [0x60 + t.length, ...new TextEncoder().encode(t)]
    const reordered = new Uint8Array([0xa2, ...text('body'), ...bstr(outer.body), ...text('sig'), ...bstr(outer.sig)])
    await expect(openLfnRecord(reordered, NOW)).rejects.toMatchObject({ name: 'InvalidRecordError' })
    expect(encodeCbor(outer)).toEqual(bytes)
    const padded = new Uint8Array(bytes.byteLength + 1)
    padded.set(bytes)
    await expect(openLfnRecord(padded, NOW)).rejects.toMatchObject({ name: 'InvalidRecordError' })
  })
})

describe('record validator', () => {
  it('accepts members, refuses outsiders and other keys', async () => {
    const a = await member()
    const outsider = await member()
    const v = new RecordValidator({ members: { isMember: p => p.toString() === a.id }, versions: memoryKv(), now: () => NOW })
    await v.validate(lfnKey('lfn-abc123'), (await signLfnRecord(lfnRecord(a.id), a.key)).bytes)
    await expect(v.validate(lfnKey('lfn-abc123'), (await signLfnRecord(lfnRecord(outsider.id), outsider.key)).bytes))
      .rejects.toMatchObject({ reason: 'publisher is not a federation member' })
    await expect(v.validate(lfnKey('lfn-other'), (await signLfnRecord(lfnRecord(a.id), a.key)).bytes))
      .rejects.toMatchObject({ reason: 'record is for another LFN' })
    await expect(v.validate(new TextEncoder().encode('/dm2/x/y'), new Uint8Array(4))).rejects.toMatchObject({ reason: 'unknown key' })
  })

  it('never lets an older record replace a newer one, and refuses forks', async () => {
    const a = await member()
    const v = new RecordValidator({ members: { isMember: () => true }, versions: memoryKv(), now: () => NOW })
    const key = lfnKey('lfn-abc123')
    const v1 = (await signLfnRecord(lfnRecord(a.id, { version: 1 }), a.key)).bytes
    const v2 = (await signLfnRecord(lfnRecord(a.id, { version: 2, contentId: new Uint8Array(32).fill(8) }), a.key)).bytes
    await v.validate(key, v1)
    await v.validate(key, v2)
    await v.validate(key, v2)
    await expect(v.validate(key, v1)).rejects.toMatchObject({ reason: 'rollback: version 1 < 2' })
    const fork = (await signLfnRecord(lfnRecord(a.id, { version: 2, contentId: new Uint8Array(32).fill(1) }), a.key)).bytes
    await expect(v.validate(key, fork)).rejects.toMatchObject({ reason: 'a different record under the same version' })
    // A republication of the same version with a later issue time is accepted; an older issue is not.
    const refreshed = (await signLfnRecord(lfnRecord(a.id, { version: 2, contentId: new Uint8Array(32).fill(8), issuedAt: NOW }), a.key)).bytes
    await v.validate(key, refreshed)
    await expect(v.validate(key, v2)).rejects.toMatchObject({ reason: 'an older issue of the same version' })
    expect(await v.select(key, [v1, refreshed, v2])).toBe(1)
  })

  it('validates site records under the site key of their own peer', async () => {
    const a = await member()
    const b = await member()
    const v = new RecordValidator({ members: { isMember: () => true }, versions: memoryKv(), now: () => NOW })
    const site = { peer: a.id, name: 'Hospital A', services: ['metadata', 'storage'] as Array<'metadata' | 'storage'>, version: 1, issuedAt: NOW, expiresAt: NOW + 1000 }
    await v.validate(siteKey(a.id), (await signSiteRecord(site, a.key)).bytes)
    await expect(v.validate(siteKey(b.id), (await signSiteRecord(site, a.key)).bytes)).rejects.toMatchObject({ reason: 'record is for another site' })
    await expect(v.validate(siteKey(a.id), (await signSiteRecord({ ...site, services: ['root' as 'storage'] }, a.key)).bytes)).rejects.toMatchObject({ reason: 'bad services' })
  })
})
