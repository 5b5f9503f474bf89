/**
 * The node as a client of a real Orthanc: C-ECHO, C-FIND, retrieval of a
 * series by C-GET (pool of 3) and by C-MOVE, registration; a virtual
 * registration from C-FIND later fetched; aborts and timeouts.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { prefixLogger } from '@libp2p/logger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScuPool, fetchSeries, registerVirtualSeries, retrieveSeries, type RetrieveProgress, type StoredInstance } from '../../src/dicom/index.js'
import { writeSeries, type GeneratedSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { openDicomEdge, type Edge } from './helpers/edge.js'
import { startOrthanc, type RunningOrthanc } from './helpers/orthanc.js'
import { pixelData } from './helpers/pixels.js'
import { freePort, killAll } from './helpers/tools.js'

describe('node against Orthanc', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let orthanc: RunningOrthanc
  let edge: Edge
  let silent: Server
  const sockets = new Set<Socket>()
  let silentPort: number
  const series: Record<'get' | 'move' | 'virtual', GeneratedSeries> = {} as never

  beforeAll(async () => {
    tmp = await tempDir('dm2-orthanc-')
    const scpPort = await freePort()
    // A peer that accepts TCP and never answers: for association timeouts.
    silent = createServer(s => { sockets.add(s); s.on('error', () => {}) })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as { port: number }).port
    orthanc = await startOrthanc({ dir: join(tmp.path, 'orthanc'), modalities: { DM2: { host: '127.0.0.1', port: scpPort } } })
    edge = await openDicomEdge({
      dir: join(tmp.path, 'node'),
      port: scpPort,
      pacs: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort },
      options: { moveDestinations: { SILENT: { host: '127.0.0.1', port: silentPort } }, connectTimeoutMs: 2000 }
    })
    let seed = 20
    for (const k of ['get', 'move', 'virtual'] as const) {
      const dir = join(tmp.path, k)
      series[k] = await writeSeries(dir, { modality: k === 'move' ? 'MR' : 'CT', rows: 128, columns: 128, slices: 10, seed: seed++ })
      for (const f of series[k].files) await orthanc.upload(join(dir, f.name))
    }
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    silent?.close()
    await edge?.close()
    await orthanc?.stop()
    await killAll()
    await tmp?.remove()
  })

  const deps = (): { pool: ScuPool, registry: Edge['registry'] } => ({ pool: edge.pool as ScuPool, registry: edge.registry })

  async function expectStored (s: GeneratedSeries, dir: string): Promise<void> {
    const lfn = edge.registry.lfnOf(s.meta.seriesInstanceUID)
    const instances = await edge.registry.instances(lfn)
    expect(instances).toHaveLength(s.files.length)
    for (const i of instances) {
      const k = s.meta.sopInstanceUIDs.indexOf(i.sopInstanceUid)
      expect(pixelData(edge.store.absolute(i.file ?? '')).equals(pixelData(join(tmp.path, dir, s.meta.fileNames[k] ?? '')))).toBe(true)
    }
  }

  it('echoes and finds at the PACS', async () => {
    await edge.pool?.echo()
    const rows = await edge.pool?.find({ QueryRetrieveLevel: 'SERIES', StudyInstanceUID: series.get.meta.studyInstanceUID, SeriesInstanceUID: '', Modality: '', NumberOfSeriesRelatedInstances: [] })
    expect(rows).toEqual([expect.objectContaining({ SeriesInstanceUID: series.get.meta.seriesInstanceUID, Modality: 'CT', NumberOfSeriesRelatedInstances: 10 })])
  })

  it('retrieves a series by C-GET over at most 3 associations, with progress, and registers it', async () => {
    const events: RetrieveProgress[] = []
    let maxOpen = 0
    const r = await retrieveSeries(deps(), series.get.meta.studyInstanceUID, series.get.meta.seriesInstanceUID, {
      onProgress: p => { events.push(p); maxOpen = Math.max(maxOpen, edge.pool?.open ?? 0) }
    })
    expect(r).toMatchObject({ completed: 10, failed: 0, skipped: 0 })
    expect(r.series).toMatchObject({ state: 'registered', version: 1, origin: 'local', instances: 10, present: 10 })
    expect(maxOpen).toBeGreaterThan(1)
    expect(maxOpen).toBeLessThanOrEqual(3)
    expect(events.at(-1)).toMatchObject({ total: 10, completed: 10, failed: 0 })
    expect(events.map(e => e.completed)).toEqual([...events.map(e => e.completed)].sort((a, b) => a - b))
    await expectStored(series.get, 'get')
    const again = await retrieveSeries(deps(), series.get.meta.studyInstanceUID, series.get.meta.seriesInstanceUID)
    expect(again).toMatchObject({ completed: 0, skipped: 10 })
    expect(again.series.version).toBe(1)
  })

  it('an instance refused after the PACS had its acknowledgement fails the retrieval with a typed error, and leaves nothing', async () => {
    // A node whose slice store takes nothing this large: each instance is acknowledged on arrival, then refused.
    const small = await openDicomEdge({
      dir: join(tmp.path, 'small-node'),
      port: await freePort(),
      pacs: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort },
      options: { maxInstanceBytes: 4096 }
    })
    try {
      const err = await retrieveSeries({ pool: small.pool as ScuPool, registry: small.registry }, series.get.meta.studyInstanceUID, series.get.meta.seriesInstanceUID).catch(e => e)
      expect(err.name).toBe('DicomStatusError')
      expect(err.message).toMatch(/10 of 10 instances failed/)
      expect(await small.store.list()).toEqual([])
      expect(await small.store.temps()).toEqual([])
      const lfn = small.registry.lfnOf(series.get.meta.seriesInstanceUID)
      expect((await small.registry.instances(lfn)).filter(i => i.file !== undefined)).toEqual([])
    } finally {
      await small.close()
    }
  })

  it('retrieves a series by C-MOVE to its own SCP and registers it', async () => {
    const r = await retrieveSeries(deps(), series.move.meta.studyInstanceUID, series.move.meta.seriesInstanceUID, { method: 'move' })
    expect(r).toMatchObject({ completed: 10, failed: 0 })
    expect(r.series).toMatchObject({ state: 'registered', instances: 10, present: 10 })
    expect(r.series.descriptive.Modality).toBe('MR')
    await expectStored(series.move, 'move')
  })

  it('registers a series virtually from C-FIND, then fetches its slices on demand', async () => {
    const { meta } = series.virtual
    const v = await registerVirtualSeries(deps(), meta.studyInstanceUID, meta.seriesInstanceUID)
    expect(v).toMatchObject({ state: 'registered', origin: 'pacs', version: 1, instances: 10, present: 0, bytes: 0 })
    expect(v.descriptive).toMatchObject({ Modality: 'CT' })
    expect((await edge.registry.identifying(v.lfn)).PatientName).toBe(meta.identity.patientName)
    expect((await edge.store.list()).filter(f => f.startsWith(v.lfn))).toEqual([])
    const arrived: StoredInstance[] = []
    const fetched = await fetchSeries(deps(), v.lfn, { onInstance: (i) => { arrived.push(i) } })
    expect(fetched).toMatchObject({ completed: 10, failed: 0 })
    // Each instance is handed on with its bytes as stored and the walk that inspected them.
    expect(arrived).toHaveLength(10)
    for (const i of arrived) {
      expect(Buffer.from(i.held?.bytes ?? new Uint8Array())).toEqual(await readFile(i.path))
      expect(i.held?.walk?.attributes.SeriesInstanceUID).toBe(meta.seriesInstanceUID)
    }
    expect(fetched.series).toMatchObject({ version: 1, present: 10, instances: 10 })
    expect(fetched.series.descriptive).toMatchObject({ Rows: 128, Columns: 128 })
    await expectStored(series.virtual, 'virtual')
  })

  it('turns aborts and timeouts into typed errors and drops the association', async () => {
    const aborted = AbortSignal.abort()
    await expect(edge.pool?.echo({ signal: aborted })).rejects.toMatchObject({ name: 'DicomAbortError' })
    const logger = prefixLogger('t')
    const silentPool = new ScuPool({ logger, ingestor: edge.ingestor, store: edge.store, registry: edge.registry }, {
      aeTitle: 'DM2', pacs: { aeTitle: 'SILENT', host: '127.0.0.1', port: silentPort }, options: { connectTimeoutMs: 300 }
    })
    await expect(silentPool.echo()).rejects.toMatchObject({ name: 'DicomTimeoutError' })
    await silentPool.stop()
    const refused = new ScuPool({ logger, ingestor: edge.ingestor, store: edge.store, registry: edge.registry }, {
      aeTitle: 'DM2', pacs: { aeTitle: 'NONE', host: '127.0.0.1', port: await freePort() }
    })
    await expect(refused.echo()).rejects.toMatchObject({ name: 'DicomNetworkError' })
    await refused.stop()
    // Our own SCP as the PACS: a C-MOVE to a destination that never answers outlives its deadline.
    const self = new ScuPool({ logger, ingestor: edge.ingestor, store: edge.store, registry: edge.registry }, {
      aeTitle: 'TESTSCU', pacs: { aeTitle: 'DM2', host: '127.0.0.1', port: edge.scp.port }
    })
    const keys = { QueryRetrieveLevel: 'SERIES', SeriesInstanceUID: series.get.meta.seriesInstanceUID }
    await expect(self.move(keys, { destination: 'SILENT', timeoutMs: 300 })).rejects.toMatchObject({ name: 'DicomTimeoutError' })
    expect(self.open).toBe(0)
    await self.echo()
    expect(self.open).toBe(1)
    await self.stop()
  })
})
