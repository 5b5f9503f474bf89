import { prefixLogger } from '@libp2p/logger'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Registry, type InstanceInput, type SeriesRecord } from '../../src/registry/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = new Uint8Array(32).fill(7)
const STUDY = '1.2.826.0.1.1'
const SERIES = '1.2.826.0.1.1.2'

function instance (n: number, over: Partial<InstanceInput> = {}): InstanceInput {
  return {
    sopInstanceUid: `${SERIES}.${n}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    studyInstanceUid: STUDY,
    seriesInstanceUid: SERIES,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    attributes: { PatientName: 'Doe^Jane', PatientID: 'P1', Modality: 'CT', BodyPartExamined: 'HEAD', InstanceNumber: n, SeriesDescription: 'Head 20240101' },
    file: { path: `x/${n}.dcm`, size: 100 },
    ...over
  }
}

describe('Registry', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let db: Level<string, Uint8Array>
  const registries: Registry[] = []
  const open = async (quietPeriodMs = 60_000, onRegistered?: (s: SeriesRecord) => void): Promise<Registry> => {
    const r = new Registry({ db: db.sublevel<string, Uint8Array>('registry', { valueEncoding: 'view' }), secret: SECRET, logger: prefixLogger('t') }, { quietPeriodMs, ...(onRegistered === undefined ? {} : { onRegistered }) })
    await r.start()
    registries.push(r)
    return r
  }

  beforeEach(async () => {
    tmp = await tempDir()
    db = new Level<string, Uint8Array>(tmp.path, { valueEncoding: 'view' })
  })
  afterEach(async () => {
    for (const r of registries.splice(0)) await r.stop()
    await db.close()
    await tmp.remove()
  })

  it('groups instances into one series per LFN, descriptive fields only unless asked', async () => {
    const r = await open()
    const a = await r.addInstance(instance(1))
    await r.addInstance(instance(2))
    await r.addInstance(instance(2))
    expect(a.lfn).toBe(r.lfnOf(SERIES))
    const s = await r.get(a.lfn)
    expect(s).toMatchObject({ state: 'receiving', origin: 'local', version: 0, instances: 2, present: 2, bytes: 200 })
    expect(s?.descriptive).toEqual({ Modality: 'CT', BodyPartExamined: 'HEAD', SeriesDescription: 'Head', SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', TransferSyntaxUID: '1.2.840.10008.1.2.1' })
    expect(s).not.toHaveProperty('identifying')
    const listed = await r.list()
    expect(JSON.stringify(listed)).not.toContain('Doe')
    const full = await r.get(a.lfn, { identified: true })
    expect(full?.identifying).toMatchObject({ PatientName: 'Doe^Jane', PatientID: 'P1', StudyInstanceUID: STUDY, SeriesInstanceUID: SERIES, SeriesDescription: 'Head 20240101' })
    expect((await r.instances(a.lfn)).map(i => i.attributes.InstanceNumber)).toEqual([1, 2])
  })

  it('registers a series after the quiet period, and again (new version) when it grows', async () => {
    const registered: SeriesRecord[] = []
    const r = await open(80, s => registered.push(s))
    const { lfn } = await r.addInstance(instance(1))
    await r.addInstance(instance(2))
    await waitFor(() => registered.length === 1, 5000, 'registration')
    expect(registered[0]).toMatchObject({ lfn, state: 'registered', version: 1, instances: 2 })
    await r.addInstance(instance(2)) // known instance: no new version
    await r.addInstance(instance(3))
    expect((await r.get(lfn))?.dirty).toBe(true)
    await waitFor(() => registered.length === 2, 5000, 're-registration')
    expect(registered[1]).toMatchObject({ version: 2, instances: 3, dirty: false })
    expect(await r.list({ state: 'registered' })).toHaveLength(1)
    expect(await r.list({ state: 'receiving' })).toHaveLength(0)
  })

  it('registers explicitly, by LFN or series UID, without bumping an unchanged series', async () => {
    const r = await open()
    const { lfn } = await r.addInstance(instance(1))
    expect((await r.register(SERIES)).version).toBe(1)
    expect((await r.register(lfn)).version).toBe(1)
    await expect(r.register('1.2.3.4')).rejects.toMatchObject({ name: 'SeriesNotFoundError' })
  })

  it('finishes pending registrations after a restart', async () => {
    const r1 = await open(60_000)
    const { lfn } = await r1.addInstance(instance(1))
    await r1.stop()
    const r2 = await open(50)
    await waitFor(async () => (await r2.get(lfn))?.state === 'registered', 5000, 'registration after restart')
  })

  it('registers a series virtually, then fills in its slices without a new version', async () => {
    const r = await open()
    const s = await r.registerVirtual(
      { StudyInstanceUID: STUDY, SeriesInstanceUID: SERIES, PatientName: 'Doe^Jane', Modality: 'CT' },
      [1, 2, 3].map(n => ({ SOPInstanceUID: `${SERIES}.${n}`, SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', InstanceNumber: n }))
    )
    expect(s).toMatchObject({ state: 'registered', origin: 'pacs', version: 1, instances: 3, present: 0 })
    expect((await r.instances(s.lfn)).every(i => i.file === undefined)).toBe(true)
    for (const n of [1, 2, 3]) await r.addInstance(instance(n))
    expect(await r.get(s.lfn)).toMatchObject({ state: 'registered', version: 1, instances: 3, present: 3, dirty: false })
    await expect(r.registerVirtual({ StudyInstanceUID: STUDY }, [])).rejects.toMatchObject({ name: 'InvalidRegistryInputError' })
  })

  it('fills a virtual series from concurrent adds, read back in batches, before and after a restart', async () => {
    let r = await open()
    const uids = Array.from({ length: 24 }, (_, i) => i + 1)
    const s = await r.registerVirtual(
      { StudyInstanceUID: STUDY, SeriesInstanceUID: SERIES, PatientName: 'Doe^Jane', Modality: 'CT' },
      uids.map(n => ({ SOPInstanceUID: `${SERIES}.${n}`, SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', InstanceNumber: n }))
    )
    // Half now (the series' records in memory), half after a restart (read from disk), each half at once, one instance twice.
    const fill = async (ns: number[]): Promise<boolean[]> => (await Promise.all(ns.map(async n => await r.addInstance(instance(n, { file: { path: `x/${n}.dcm`, size: 10 * n } }))))).map(a => a.newInstance)
    expect(await fill([...uids.slice(0, 12), 3])).toEqual(Array(13).fill(false))
    await r.stop()
    r = await open()
    expect(await fill(uids.slice(12))).toEqual(Array(12).fill(false))
    expect(await r.get(s.lfn)).toMatchObject({ state: 'registered', version: 1, instances: 24, present: 24, bytes: 10 * 24 * 25 / 2, dirty: false })
    const listed = await r.instances(s.lfn)
    expect(listed.map(i => [i.attributes.InstanceNumber, i.file, i.size])).toEqual(uids.map(n => [n, `x/${n}.dcm`, 10 * n]))
  })

  it('answers indexed queries and keeps indexes consistent', async () => {
    const r = await open()
    await r.addInstance(instance(1))
    const mr = await r.addInstance(instance(1, {
      seriesInstanceUid: '9.9', sopInstanceUid: '9.9.1', attributes: { Modality: 'MR', BodyPartExamined: 'HEAD', PatientID: 'P2' }
    }))
    expect((await r.list({ modality: 'MR' })).map(s => s.lfn)).toEqual([mr.lfn])
    expect(await r.list({ bodyPart: 'HEAD' })).toHaveLength(2)
    expect(await r.list({ modality: 'CT', bodyPart: 'HEAD' })).toHaveLength(1)
    expect(await r.indexed('patient', 'P2')).toEqual([mr.lfn])
    expect(await r.lfnForSeriesUid('9.9')).toBe(mr.lfn)
    expect((await r.instanceBySopUid('9.9.1'))?.lfn).toBe(mr.lfn)
  })

  it('serializes concurrent writes to one series', async () => {
    const r = await open()
    await Promise.all(Array.from({ length: 40 }, async (_, i) => await r.addInstance(instance(i + 1))))
    const s = await r.get(r.lfnOf(SERIES))
    expect(s).toMatchObject({ instances: 40, present: 40, bytes: 4000 })
  })

  it('deletes only through the local admin call, returning the files to remove', async () => {
    const r = await open()
    const { lfn } = await r.addInstance(instance(1))
    await r.addInstance(instance(2))
    expect((await r.adminDelete(lfn)).sort()).toEqual(['x/1.dcm', 'x/2.dcm'])
    expect(await r.get(lfn)).toBeUndefined()
    expect(await r.list({ modality: 'CT' })).toEqual([])
    expect(await r.instanceBySopUid(`${SERIES}.1`)).toBeUndefined()
    await expect(r.adminDelete(lfn)).rejects.toMatchObject({ name: 'SeriesNotFoundError' })
  })

  it('refuses incomplete input and use after stop', async () => {
    const r = await open()
    await expect(r.addInstance(instance(1, { seriesInstanceUid: '' }))).rejects.toMatchObject({ name: 'InvalidRegistryInputError' })
    await r.stop()
    await expect(r.addInstance(instance(1))).rejects.toMatchObject({ name: 'RegistryStoppedError' })
  })

  it('tells a new instance from a known one, in a series created here or found on disk', async () => {
    const r = await open()
    expect((await r.addInstance(instance(1))).newInstance).toBe(true)
    expect((await r.addInstance(instance(1))).newInstance).toBe(false)
    await r.stop()
    // A restart: the series is read from disk, its instance keys are not all in memory.
    const again = await open()
    expect((await again.addInstance(instance(1))).newInstance).toBe(false)
    expect((await again.addInstance(instance(2))).newInstance).toBe(true)
    expect((await again.get(again.lfnOf(SERIES)))?.instances).toBe(2)
    // Deleted, then received again: new again.
    await again.adminDelete(again.lfnOf(SERIES))
    expect((await again.addInstance(instance(1))).newInstance).toBe(true)
    expect((await again.get(again.lfnOf(SERIES)))?.instances).toBe(1)
  })
})
