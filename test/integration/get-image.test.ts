/**
 * getImage end to end over real TCP nodes: a series registered at hospital A
 * is prepared there (assembled, encrypted, cached, announced), fetched by
 * hospital C from A, its key released wrapped to C (with A's answer, or
 * over /dm2/keys when that answer has none), and decrypted to a volume
 * voxel-identical to assembling the original slices locally.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { getImage } from '../../src/api/get-image.js'
import { imageArguments } from '../../src/protocols/image/index.js'
import { Wallet } from '../../src/api/wallet.js'
import { readNifti, writeVolume } from '../../src/assembly/index.js'
import { dcmjs } from '../../src/assembly/dcmjs.js'
import type { SeriesCatalog, SeriesInfo, SliceProvider } from '../../src/imaging/types.js'
import { waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { createRevocation, generateSigner, issueCertificate } from '../../src/sac/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'

function toArrayBuffer (b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
}

describe('getImage across hospitals', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation
  let a: HospitalNode
  let b: HospitalNode
  let c: HospitalNode
  let slicesDir: string
  let sliceCalls = 0
  const doctor = generateSigner()
  const stranger = generateSigner()
  const series: SeriesInfo = { lfn: 'lfn-ct-1', version: 1, modality: 'CT', bodyPart: 'HEART', instances: [], meta: { modality: 'CT', bodyPart: 'HEART' } }
  /** A series whose version the test moves on (same slices). */
  const moving: SeriesInfo = { lfn: 'lfn-ct-moving', version: 1, modality: 'CT', bodyPart: 'HEART', instances: [], meta: { modality: 'CT', bodyPart: 'HEART' } }
  /** A series fetched again and again by C (its copy kept there), of four 1 MiB chunks. */
  const kept: SeriesInfo = { lfn: 'lfn-ct-kept', version: 1, modality: 'CT', bodyPart: 'HEART', instances: [], meta: { modality: 'CT', bodyPart: 'HEART' } }
  /** A series C downloads into chunk files (as a large one would be), its copy kept by moving them. */
  const filed: SeriesInfo = { lfn: 'lfn-ct-filed', version: 1, modality: 'CT', bodyPart: 'HEART', instances: [], meta: { modality: 'CT', bodyPart: 'HEART' } }
  const big: SeriesInfo = { lfn: 'lfn-ct-big', version: 1, modality: 'CT', bodyPart: 'HEART', instances: [], meta: { modality: 'CT', bodyPart: 'HEART' } }
  let bigDir: string

  beforeAll(async () => {
    dir = await tempDir()
    slicesDir = join(dir.path, 'pacs-series')
    await mkdir(slicesDir)
    await writeSeries(slicesDir, { modality: 'CT', rows: 128, columns: 128, slices: 12, seed: 7 })
    const files = (await import('node:fs/promises')).readdir(slicesDir)
    const names = (await files).filter(n => n.endsWith('.dcm'))
    series.instances = names
    moving.instances = names
    // A series of four 1 MiB chunks, for a transfer that fails part way.
    bigDir = join(dir.path, 'pacs-big')
    await mkdir(bigDir)
    await writeSeries(bigDir, { modality: 'CT', rows: 256, columns: 256, slices: 28, seed: 8 })
    big.instances = (await readdir(bigDir)).filter(n => n.endsWith('.dcm'))
    kept.instances = big.instances
    filed.instances = big.instances
    const catalog: SeriesCatalog = { describe: async lfn => [series, big, moving, kept, filed].find(s => s.lfn === lfn) }
    const slices: SliceProvider = {
      ensure: async (info, { onProgress }) => {
        sliceCalls++
        onProgress?.({ done: info.instances.length, total: info.instances.length })
        return info.instances.map(name => ({ name, path: join([big.lfn, kept.lfn, filed.lfn].includes(info.lfn) ? bigDir : slicesDir, name) }))
      }
    }
    fed = await startLocalFederation({
      root: join(dir.path, 'fed'),
      hospitals: 3,
      nodeOptions: (i) => i === 0 ? { catalog, slices } : {},
      // No replicas: this file is about the master serving (test/integration/replication.test.ts has them).
      configOverrides: (i) => [
        { path: ['replicationFactor'], value: 0, source: 'test' },
        // Hospital B keeps no copies unless a request asks, and has room for 1 MiB of them.
        ...(i === 1 ? [{ path: ['keepCopies'], value: false, source: 'test' }, { path: ['cache', 'copies'], value: '1 MiB', source: 'test' }] : [])
      ]
    })
    ;[a, b, c] = fed.nodes as [HospitalNode, HospitalNode, HospitalNode]
    expect(await waitForRoutingTables(fed.nodes)).toBe(true)
  })
  afterAll(async () => {
    await fed?.stop()
    await dir?.remove()
  })

  /** Hospital A (its node key acts for its patients) grants the doctor read access to its cardiac CTs. */
  function walletFor (user: ReturnType<typeof generateSigner>, modality: 'CT' | 'MR' = 'CT'): Wallet {
    const s = Math.floor(Date.now() / 1000)
    const grant = issueCertificate({
      audience: user.publicKey,
      resource: { selector: { modality: [modality] } },
      abilities: ['image/read'],
      notBefore: s - 60,
      expiry: s + 3600,
      purpose: 'TREAT'
    }, a.siteSigner())
    return new Wallet({ signer: user, certificates: [grant.bytes] })
  }

  it('fetches a remote series as a volume identical to local assembly, then serves it from the cache', async () => {
    await a.dataPlane.pipeline.prepare(series.lfn)
    const out = join(dir.path, 'fetched.nii.gz')
    const steps: string[] = []
    const keyRequests = vi.spyOn(c.libp2p.services.keys, 'request')
    const chunkFetches = vi.spyOn(c.libp2p.services.chunks, 'fetch')
    const served = a.libp2p.services.chunks.stats.served
    const result = await getImage(c, walletFor(doctor), series.lfn, { out, onProgress: e => steps.push(e.step) })
    expect(result).toMatchObject({ lfn: series.lfn, version: 1, master: a.peerId.toString() })
    // The key and the chunks came with A's answer: no key request, no chunk request of its own.
    expect(keyRequests).not.toHaveBeenCalled()
    expect(chunkFetches).not.toHaveBeenCalled()
    expect(a.libp2p.services.chunks.stats.served).toBe(served)
    keyRequests.mockRestore()
    chunkFetches.mockRestore()
    expect(Object.keys(result.sources)).toEqual([a.peerId.toString()])
    expect(steps).toEqual(expect.arrayContaining(['locate', 'prepare', 'fetch', 'decrypt', 'done']))

    const reference = join(dir.path, 'reference.nii.gz')
    await writeVolume(slicesDir, reference, { sidecar: false })
    const got = readNifti(new Uint8Array(await readFile(out)))
    const want = readNifti(new Uint8Array(await readFile(reference)))
    expect(got.dims).toEqual(want.dims)
    expect(Buffer.compare(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength), Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength))).toBe(0)

    // The feature indexer reads the prepared slices once, in the background; only then count.
    await a.similarity.indexer.idle()
    const before = sliceCalls
    await getImage(c, walletFor(doctor), series.lfn, { out: join(dir.path, 'again.nii.gz') })
    expect(sliceCalls).toBe(before)
  })

  it('keeps a copy at the requester and reads it while the master vouches for it; the master judges, audits and keys every request', async () => {
    const wallet = walletFor(doctor)
    await a.dataPlane.pipeline.prepare(kept.lfn)
    const voxels = async (file: string): Promise<Buffer> => {
      const v = readNifti(new Uint8Array(await readFile(file)))
      return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)
    }
    const first = await getImage(c, wallet, kept.lfn, { out: join(dir.path, 'kept-1.nii') })
    expect(Object.keys(first.sources)).toEqual([a.peerId.toString()])
    // The copy is written in the background: ciphertext and the signed manifest only.
    await expect.poll(() => c.dataPlane.cache.copies.has(kept.lfn, 1)).toBe(true)
    const lease = await c.dataPlane.cache.copies.get(kept.lfn, 1)
    const chunks = lease?.chunks.length as number
    const chunkFile = lease?.chunkPath(String(chunks - 1)) as string
    lease?.release()
    expect(chunks).toBe(4)
    expect(await c.dataPlane.keys.get(kept.lfn, 1)).toBeUndefined()
    // Among the copies, not the images this site masters: neither evicts the other.
    expect(c.dataPlane.cache.images.latestVersion(kept.lfn)).toBeUndefined()

    const audited = async (): Promise<string[]> => {
      const out = []
      for await (const e of a.dataPlane.audit.entries()) if (e.entry.resource === kept.lfn || e.entry.command === 'keys/release') out.push(`${e.entry.command}:${e.entry.decision}`)
      return out
    }
    const before = (await audited()).length
    const answers = vi.spyOn(c.libp2p.services.image, 'prepare')
    const chunkFetches = vi.spyOn(c.libp2p.services.chunks, 'fetch')
    try {
      // Read from the copy: the master sent the answer and the key, no chunks.
      const second = await getImage(c, wallet, kept.lfn, { out: join(dir.path, 'kept-2.nii') })
      expect(second.sources).toEqual({ [c.peerId.toString()]: chunks })
      expect((await answers.mock.results[0]?.value)?.inline).toBeUndefined()
      expect(chunkFetches).not.toHaveBeenCalled()
      expect(Buffer.compare(await voxels(join(dir.path, 'kept-2.nii')), await voxels(join(dir.path, 'kept-1.nii')))).toBe(0)
      expect((await audited()).slice(before)).toEqual(['image/prepare:allow', 'keys/release:allow'])

      // A chunk of the copy altered on disk: refused by its hash, fetched from the master, the copy mended.
      const bytes = await readFile(chunkFile)
      bytes[7] = (bytes[7] ?? 0) ^ 1
      await writeFile(chunkFile, bytes)
      const third = await getImage(c, wallet, kept.lfn, { out: join(dir.path, 'kept-3.nii') })
      expect(third.sources).toEqual({ [c.peerId.toString()]: chunks - 1, [a.peerId.toString()]: 1 })
      expect(chunkFetches).toHaveBeenCalledTimes(1)
      expect(Buffer.compare(await voxels(join(dir.path, 'kept-3.nii')), await voxels(join(dir.path, 'kept-1.nii')))).toBe(0)
      await expect.poll(async () => (await getImage(c, wallet, kept.lfn, { out: join(dir.path, 'kept-4.nii') })).sources).toEqual({ [c.peerId.toString()]: chunks })

      // Without the copy, on request: everything from the master.
      const fetched = await getImage(c, wallet, kept.lfn, { out: join(dir.path, 'kept-5.nii'), localCopy: false })
      expect(Object.keys(fetched.sources)).toEqual([a.peerId.toString()])
    } finally {
      answers.mockRestore()
      chunkFetches.mockRestore()
    }

    // The copy is no right: a user the master refuses gets nothing, copy or not.
    const denied = await getImage(c, walletFor(stranger, 'MR'), kept.lfn, { out: join(dir.path, 'kept-denied.nii') }).catch(e => e)
    expect(denied.cause).toMatchObject({ name: 'DeniedError' })
    await expect(readFile(join(dir.path, 'kept-denied.nii'))).rejects.toMatchObject({ code: 'ENOENT' })

    // A new version at the master: the old copy is not read, and the new one replaces it.
    kept.version = 2
    const newer = await getImage(c, wallet, kept.lfn, { out: join(dir.path, 'kept-v2.nii') })
    expect(newer.version).toBe(2)
    expect(Object.keys(newer.sources)).toEqual([a.peerId.toString()])
    await expect.poll(() => c.dataPlane.cache.copies.has(kept.lfn, 2)).toBe(true)
    expect(c.dataPlane.cache.copies.has(kept.lfn, 1)).toBe(false)
  })

  it('a hospital configured to keep no copies fetches every time, unless a request asks for a copy', async () => {
    const wallet = walletFor(doctor)
    await a.dataPlane.pipeline.prepare(series.lfn)
    for (const n of [1, 2]) {
      const got = await getImage(b, wallet, series.lfn, { out: join(dir.path, `b-${n}.nii`) })
      expect(Object.keys(got.sources)).toEqual([a.peerId.toString()])
    }
    expect(b.dataPlane.cache.copies.latestVersion(series.lfn)).toBeUndefined()
    await getImage(b, wallet, series.lfn, { out: join(dir.path, 'b-3.nii'), localCopy: true })
    await expect.poll(() => b.dataPlane.cache.copies.latestVersion(series.lfn)).toBe(1)
    expect((await getImage(b, wallet, series.lfn, { out: join(dir.path, 'b-4.nii'), localCopy: true })).sources).toEqual({ [b.peerId.toString()]: 1 })
    // The configured budget holds: a 4 MiB image is fetched and written, but no copy of it is kept.
    expect(b.dataPlane.cache.stats().copies.maxBytes).toBe(2 ** 20)
    await a.dataPlane.pipeline.prepare(big.lfn)
    const large = await getImage(b, wallet, big.lfn, { out: join(dir.path, 'b-big.nii'), localCopy: true })
    expect(large.bytes).toBeGreaterThan(2 ** 20)
    await b.dataPlane.copyWriter.settled()
    expect(b.dataPlane.cache.copies.latestVersion(big.lfn)).toBeUndefined()
    expect(b.dataPlane.cache.copies.latestVersion(series.lfn)).toBe(1)
  })

  it('a download into chunk files is decrypted, then its files become the copy; the copy is read back a chunk at a time', async () => {
    const wallet = walletFor(doctor)
    await a.dataPlane.pipeline.prepare(filed.lfn)
    await expect(getImage(c, wallet, filed.lfn, { out: join(dir.path, 'never.nii'), memoryBytes: -1 })).rejects.toThrow(RangeError)
    const first = await getImage(c, wallet, filed.lfn, { out: join(dir.path, 'filed-1.nii'), memoryBytes: 0 })
    expect(Object.keys(first.sources)).toEqual([a.peerId.toString()])
    // Moved into the cache before getImage returned, and the download folder removed.
    expect(c.dataPlane.cache.copies.has(filed.lfn, 1)).toBe(true)
    expect(await readdir(join(c.config.dataDir, 'downloads')).catch(() => [])).toEqual([])
    const second = await getImage(c, wallet, filed.lfn, { out: join(dir.path, 'filed-2.nii'), memoryBytes: 0 })
    expect(second.sources).toEqual({ [c.peerId.toString()]: 4 })
    const voxels = async (file: string): Promise<Buffer> => {
      const v = readNifti(new Uint8Array(await readFile(file)))
      return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)
    }
    expect(Buffer.compare(await voxels(join(dir.path, 'filed-2.nii')), await voxels(join(dir.path, 'filed-1.nii')))).toBe(0)
  })

  it('a transfer that fails part way leaves nothing at the output, not even the part already decrypted', async () => {
    await a.dataPlane.pipeline.prepare(big.lfn)
    // The last chunk of A's cached copy no longer matches its id, and A is the only source.
    const lease = await a.dataPlane.cache.images.get(big.lfn, 1)
    expect(lease?.chunks.length).toBe(4)
    const last = lease?.chunkPath('3') as string
    lease?.release()
    const bytes = await readFile(last)
    bytes[100] = (bytes[100] ?? 0) ^ 1
    await writeFile(last, bytes)
    const outDir = join(dir.path, 'broken')
    await mkdir(outDir)
    const steps: string[] = []
    const chunkFetches = vi.spyOn(c.libp2p.services.chunks, 'fetch')
    const err = await getImage(c, walletFor(doctor), big.lfn, { out: join(outDir, 'big.nii'), onProgress: e => steps.push(e.step) }).catch(e => e)
    expect(err).toMatchObject({ name: 'GetImageError', step: 'fetch' })
    expect(err.cause.name).toBe('MissingChunksError')
    // The chunk that came wrong with the answer was asked for again over /dm2/chunks (and came wrong again).
    expect(chunkFetches).toHaveBeenCalledTimes(1)
    chunkFetches.mockRestore()
    // Chunks are decrypted as they arrive once the key is in (usually before the last chunk): whatever was written is gone.
    expect(steps).toContain('fetch')
    expect(await readdir(outDir)).toEqual([])
  })

  it('the DICOM form: every object de-identified at the master, pixels intact, readable by DCMTK', async () => {
    const out = join(dir.path, 'dicom-form')
    const result = await getImage(c, walletFor(doctor), series.lfn, { out, format: 'dicom' })
    expect(result.master).toBe(a.peerId.toString())
    const names = (await readdir(out)).sort()
    expect(names).toEqual(Array.from({ length: series.instances.length }, (_, i) => `IM${String(i + 1).padStart(5, '0')}.dcm`))
    const originals = await Promise.all(series.instances.map(async n => dcmjs.data.DicomMessage.readFile(toArrayBuffer(await readFile(join(slicesDir, n))))))
    const value = (ds: { dict: Record<string, { Value?: unknown[] }> }, tag: string): unknown => ds.dict[tag]?.Value?.[0]
    const originalPixels = new Set(originals.map(o => Buffer.from(value(o, '7FE00010') as ArrayBuffer).toString('base64')))
    const originalUids = new Set(originals.flatMap(o => ['0020000D', '0020000E', '00080018'].map(t => String(value(o, t)))))
    const studies = new Set<string>()
    for (const name of names) {
      const file = join(out, name)
      // DCMTK reads it.
      const dump = execFileSync('dcmdump', ['-q', file], { encoding: 'utf8' })
      expect(dump).toContain('(0012,0062) CS [YES]')
      const ds = dcmjs.data.DicomMessage.readFile(toArrayBuffer(await readFile(file)))
      const nat = dcmjs.data.DicomMetaDictionary.naturalizeDataset(ds.dict)
      // Identity removed or emptied (PS3.15 Annex E), UIDs replaced, pixels kept.
      expect(JSON.stringify(nat.PatientName ?? '')).not.toContain('^')
      expect(nat.PatientID ?? '').not.toBe(String(value(originals[0] as { dict: Record<string, { Value?: unknown[] }> }, '00100020')))
      expect(nat.PatientIdentityRemoved).toBe('YES')
      for (const uid of [nat.StudyInstanceUID, nat.SeriesInstanceUID, nat.SOPInstanceUID]) expect(originalUids.has(String(uid))).toBe(false)
      studies.add(String(nat.StudyInstanceUID))
      expect(originalPixels.has(Buffer.from(value(ds, '7FE00010') as ArrayBuffer).toString('base64'))).toBe(true)
    }
    expect(studies.size).toBe(1) // consistent UID mapping across the series
    // The volume's invocation cannot be replayed for the DICOM form: the format is bound into its arguments.
    expect(Buffer.from(imageArguments(series.lfn)).equals(Buffer.from(imageArguments(series.lfn, 'dicom')))).toBe(false)
  })

  it('refuses a user without a certificate from the master, and audits the denial', async () => {
    // The stranger holds a certificate, but issued by himself, not by the hospital.
    const s = Math.floor(Date.now() / 1000)
    const selfIssued = issueCertificate({ audience: stranger.publicKey, resource: { selector: { modality: ['CT'] } }, abilities: ['image/read'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }, stranger)
    const err = await getImage(c, new Wallet({ signer: stranger, certificates: [selfIssued.bytes] }), series.lfn, { out: join(dir.path, 'no.nii.gz') }).catch(e => e)
    expect(err.name).toBe('GetImageError')
    expect(err.cause.name).toBe('DeniedError')
    // A certificate from the hospital, but for MR: the master itself denies and audits it.
    const mr = await getImage(c, walletFor(stranger, 'MR'), series.lfn, { out: join(dir.path, 'no.nii.gz') }).catch(e => e)
    expect(mr).toMatchObject({ name: 'GetImageError', step: 'prepare' })
    expect(mr.cause).toMatchObject({ name: 'DeniedError', reason: 'RESOURCE_MISMATCH' })
    const entries = []
    for await (const e of a.dataPlane.audit.entries()) entries.push(e.entry)
    expect(entries.at(-1)).toMatchObject({ decision: 'deny', reason: 'RESOURCE_MISMATCH', command: 'image/prepare', resource: series.lfn, remotePeer: c.peerId.toString() })
    expect(entries.some(e => e.decision === 'allow' && e.command === 'chunks/get')).toBe(true)
    expect((await a.dataPlane.audit.verify()).ok).toBe(true)
  })

  it('a requester that knows an older version gets the key over /dm2/keys, for the version prepared', async () => {
    const wallet = walletFor(doctor)
    // Prepared (and so announced) at A first, as a registered series is.
    await a.dataPlane.pipeline.prepare(moving.lfn)
    await getImage(c, wallet, moving.lfn, { out: join(dir.path, 'moving-1.nii.gz') })
    // A new version at the master; C still holds the LFN record of version 1.
    moving.version = 2
    expect((await c.localization.resolveLfn(moving.lfn, { first: true })).version).toBe(1)
    const keyRequests = vi.spyOn(c.libp2p.services.keys, 'request')
    try {
      const result = await getImage(c, wallet, moving.lfn, { out: join(dir.path, 'moving-2.nii.gz') })
      expect(result.version).toBe(2)
      expect(keyRequests).toHaveBeenCalledTimes(1)
      expect(keyRequests.mock.calls[0]?.[1]).toMatchObject({ lfn: moving.lfn, version: 2 })
    } finally {
      keyRequests.mockRestore()
    }
    const got = readNifti(new Uint8Array(await readFile(join(dir.path, 'moving-2.nii.gz'))))
    const want = readNifti(new Uint8Array(await readFile(join(dir.path, 'moving-1.nii.gz'))))
    expect(Buffer.compare(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength), Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength))).toBe(0)
    // Both key releases audited at A: with the answer for version 1, over /dm2/keys for version 2.
    const releases = []
    for await (const e of a.dataPlane.audit.entries()) if (e.entry.command === 'keys/release' && e.entry.resource === moving.lfn) releases.push(e.entry.decision)
    expect(releases).toEqual(['allow', 'allow'])
  })

  it('a certificate revoked only in the DHT is refused by a master that missed the push', async () => {
    const s = Math.floor(Date.now() / 1000)
    const resident = generateSigner()
    const grant = issueCertificate({ audience: resident.publicKey, resource: { selector: { modality: ['CT'] } }, abilities: ['image/read'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }, a.siteSigner())
    const wallet = new Wallet({ signer: resident, certificates: [grant.bytes] })
    // Revoked by the hospital; the notice is stored in the DHT only (no push reached A).
    const notice = createRevocation({ chain: [grant], reason: 'privilege-withdrawn' }, a.siteSigner())
    expect(await c.localization.publishRevocation(grant.id, notice.notice)).toBeGreaterThan(0)
    expect(a.dataPlane.revocations?.isRevoked(grant.id)).toBe(false)
    // The first time A sees the certificate it looks it up, finds the notice and refuses.
    const err = await getImage(c, wallet, series.lfn, { out: join(dir.path, 'after.nii.gz') }).catch(e => e)
    expect(err.cause).toMatchObject({ name: 'DeniedError', reason: 'REVOKED' })
    expect(a.dataPlane.revocations?.isRevoked(grant.id)).toBe(true)
  })
})
