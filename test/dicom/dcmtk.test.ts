/**
 * Interop with DCMTK against the node's SCP: echoscu, storescu (a series and
 * every transfer-syntax sample), findscu at all four levels, getscu, and
 * movescu to a DCMTK storescp — what comes back is byte-identical in pixel data.
 */
import { readdirSync } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectFile } from '../../src/dicom/index.js'
import { writeSeries, type GeneratedSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { readAttributes } from './helpers/attributes.js'
import { openDicomEdge, type Edge } from './helpers/edge.js'
import { pixelData } from './helpers/pixels.js'
import { freePort, killAll, runTool, startTool, waitForPort } from './helpers/tools.js'

const SAMPLES = fileURLToPath(new URL('../../../shared/dicom-samples/transfer-syntaxes/', import.meta.url))

/** storescu's option proposing a file's own transfer syntax first (so it is sent unconverted). */
const PROPOSE: Record<string, string> = {
  '1.2.840.10008.1.2': '-xi',
  '1.2.840.10008.1.2.1': '-xe',
  '1.2.840.10008.1.2.2': '-xb',
  '1.2.840.10008.1.2.1.99': '-xd',
  '1.2.840.10008.1.2.4.50': '-xy',
  '1.2.840.10008.1.2.4.51': '-xx',
  '1.2.840.10008.1.2.4.57': '-xs',
  '1.2.840.10008.1.2.4.70': '-xs',
  '1.2.840.10008.1.2.4.80': '-xt',
  '1.2.840.10008.1.2.4.81': '-xu',
  '1.2.840.10008.1.2.4.90': '-xv',
  '1.2.840.10008.1.2.4.91': '-xw',
  '1.2.840.10008.1.2.5': '-xr'
}

/** Attributes of the responses findscu extracted with -X (rsp0001.dcm, ...). */
function responses (dir: string): Array<Record<string, unknown>> {
  return readdirSync(dir).filter(f => f.startsWith('rsp')).sort().map(f => readAttributes(join(dir, f)))
}

describe('DCMTK against the node SCP', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let edge: Edge
  let series: GeneratedSeries
  let storescpPort: number
  const port = (): string => String(edge.scp.port)

  beforeAll(async () => {
    tmp = await tempDir('dm2-dcmtk-')
    storescpPort = await freePort()
    edge = await openDicomEdge({ dir: join(tmp.path, 'node'), options: { moveDestinations: { STORESCP: { host: '127.0.0.1', port: storescpPort } } } })
    series = await writeSeries(join(tmp.path, 'series'), { modality: 'CT', rows: 64, columns: 64, slices: 8, seed: 11 })
  })
  afterAll(async () => {
    await killAll()
    await edge?.close()
    await tmp?.remove()
  })

  it('answers echoscu', async () => {
    const r = await runTool('echoscu', ['-aec', 'DM2', '127.0.0.1', port()])
    expect(r.code, r.stderr).toBe(0)
  })

  it('stores a whole series from storescu and registers it', async () => {
    const files = series.files.map(f => join(tmp.path, 'series', f.name))
    const r = await runTool('storescu', ['-aec', 'DM2', '127.0.0.1', port(), ...files])
    expect(r.code, r.stderr).toBe(0)
    const lfn = edge.registry.lfnOf(series.meta.seriesInstanceUID)
    await waitFor(async () => (await edge.registry.get(lfn))?.state === 'registered', 10_000, 'registration')
    const s = await edge.registry.get(lfn)
    expect(s).toMatchObject({ instances: 8, present: 8, version: 1 })
    for (const i of await edge.registry.instances(lfn)) {
      const original = join(tmp.path, 'series', series.meta.fileNames[series.meta.sopInstanceUIDs.indexOf(i.sopInstanceUid)] ?? '')
      expect(pixelData(edge.store.absolute(i.file ?? '')).equals(pixelData(original))).toBe(true)
    }
  })

  it('stores every transfer-syntax sample as sent', async () => {
    for (const name of readdirSync(SAMPLES)) {
      const file = SAMPLES + name
      const info = inspectFile(file)
      const option = PROPOSE[info.transferSyntaxUid]
      expect(option, info.transferSyntaxUid).toBeDefined()
      const r = await runTool('storescu', [option ?? '', '-aec', 'DM2', '127.0.0.1', port(), file])
      expect(r.code, `${name}: ${r.stderr}`).toBe(0)
      expect(r.stderr, name).not.toMatch(/^E:/m)
      const stored = await edge.registry.instanceBySopUid(info.sopInstanceUid)
      expect(stored?.instance.file, name).toBeDefined()
      const path = edge.store.absolute(stored?.instance.file ?? '')
      // Samples sharing a SOP instance UID replace each other: compare with the last one sent.
      expect(pixelData(path).equals(pixelData(file)), name).toBe(true)
    }
  })

  it('answers findscu at PATIENT, STUDY, SERIES and IMAGE level', async () => {
    const find = async (level: string, model: '-P' | '-S', keys: string[]): Promise<Array<Record<string, unknown>>> => {
      const out = join(tmp.path, `find-${level}-${Math.random().toString(36).slice(2)}`)
      await mkdir(out)
      const r = await runTool('findscu', [model, '-X', '-od', out, '-aec', 'DM2', '-k', `QueryRetrieveLevel=${level}`, ...keys.flatMap(k => ['-k', k]), '127.0.0.1', port()])
      expect(r.code, r.stderr).toBe(0)
      return responses(out)
    }
    const { meta } = series
    const patients = await find('PATIENT', '-P', [`PatientID=${meta.identity.patientId}`, 'PatientName', 'NumberOfPatientRelatedInstances'])
    expect(patients).toEqual([expect.objectContaining({ PatientID: meta.identity.patientId, PatientName: meta.identity.patientName, NumberOfPatientRelatedInstances: 8 })])
    const byName = await find('PATIENT', '-P', [`PatientName=${meta.identity.patientName.slice(0, 3).toLowerCase()}*`, 'PatientID'])
    expect(byName.map(p => p.PatientID)).toContain(meta.identity.patientId)
    const studies = await find('STUDY', '-S', [`StudyInstanceUID=${meta.studyInstanceUID}`, 'ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances', 'PatientName'])
    expect(studies).toEqual([expect.objectContaining({ ModalitiesInStudy: 'CT', NumberOfStudyRelatedSeries: 1, NumberOfStudyRelatedInstances: 8 })])
    const list = await find('SERIES', '-S', [`StudyInstanceUID=${meta.studyInstanceUID}`, 'SeriesInstanceUID', 'Modality', 'NumberOfSeriesRelatedInstances'])
    expect(list).toEqual([expect.objectContaining({ SeriesInstanceUID: meta.seriesInstanceUID, Modality: 'CT', NumberOfSeriesRelatedInstances: 8 })])
    const images = await find('IMAGE', '-S', [`StudyInstanceUID=${meta.studyInstanceUID}`, `SeriesInstanceUID=${meta.seriesInstanceUID}`, 'SOPInstanceUID', 'InstanceNumber'])
    expect(images.map(i => i.SOPInstanceUID).sort()).toEqual([...meta.sopInstanceUIDs].sort())
    expect(await find('SERIES', '-S', ['Modality=XX', 'SeriesInstanceUID'])).toEqual([])
  })

  it('serves getscu, byte-identical in pixel data', async () => {
    const out = join(tmp.path, 'getscu')
    await mkdir(out)
    const { meta } = series
    const r = await runTool('getscu', ['-S', '-od', out, '-aec', 'DM2', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${meta.studyInstanceUID}`, '-k', `SeriesInstanceUID=${meta.seriesInstanceUID}`, '127.0.0.1', port()])
    expect(r.code, r.stderr).toBe(0)
    await expectSameSeries(out, series, join(tmp.path, 'series'))
  })

  it('moves to a DCMTK storescp, byte-identical in pixel data; refuses unknown destinations', async () => {
    const out = join(tmp.path, 'storescp')
    await mkdir(out)
    startTool('storescp', ['-od', out, '-aet', 'STORESCP', String(storescpPort)])
    await waitForPort(storescpPort)
    const { meta } = series
    const keys = ['-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${meta.studyInstanceUID}`, '-k', `SeriesInstanceUID=${meta.seriesInstanceUID}`]
    const r = await runTool('movescu', ['-S', '-aec', 'DM2', '-aem', 'STORESCP', ...keys, '127.0.0.1', port()])
    expect(r.code, r.stderr).toBe(0)
    await expectSameSeries(out, series, join(tmp.path, 'series'))
    const bad = await runTool('movescu', ['-v', '-S', '-aec', 'DM2', '-aem', 'NOWHERE', ...keys, '127.0.0.1', port()])
    expect(bad.stdout + bad.stderr).toMatch(/MoveDestinationUnknown/)
  })

  it('rejects a wrong called AE and, with an allow-list, unknown calling AEs', async () => {
    const wrong = await runTool('echoscu', ['-aec', 'NOTUS', '127.0.0.1', port()])
    expect(wrong.code).not.toBe(0)
    expect(wrong.stdout + wrong.stderr).toMatch(/Called AE Title Not Recognized/i)
    const strict = await openDicomEdge({ dir: join(tmp.path, 'strict'), options: { allowedCallingAeTitles: ['TRUSTED'] } })
    try {
      const p = String(strict.scp.port)
      const refused = await runTool('echoscu', ['-aet', 'INTRUDER', '-aec', 'DM2', '127.0.0.1', p])
      expect(refused.stdout + refused.stderr).toMatch(/Calling AE Title Not Recognized/i)
      expect((await runTool('echoscu', ['-aet', 'TRUSTED', '-aec', 'DM2', '127.0.0.1', p])).code).toBe(0)
    } finally {
      await strict.close()
    }
  })
})

async function expectSameSeries (dir: string, series: GeneratedSeries, originals: string): Promise<void> {
  const got = await readdir(dir)
  expect(got).toHaveLength(series.files.length)
  for (const f of got) {
    const info = inspectFile(join(dir, f))
    const k = series.meta.sopInstanceUIDs.indexOf(info.sopInstanceUid)
    expect(k).toBeGreaterThanOrEqual(0)
    expect(pixelData(join(dir, f)).equals(pixelData(join(originals, series.meta.fileNames[k] ?? '')))).toBe(true)
  }
}
