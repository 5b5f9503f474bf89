/**
 * Start-up reconciliation of the slice store and the registry (Ingestor.recover):
 * with one flush per instance, either side may be missing after a crash.
 */
import { truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { prefixLogger } from '@libp2p/logger'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStandaloneEdge } from '../../src/dicom/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'

describe('recovery after a crash', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  beforeEach(async () => { tmp = await tempDir('dm2-recover-') })
  afterEach(async () => { await tmp.remove() })

  it('drops records whose file is missing or short, records complete files, removes broken ones', async () => {
    const series = await writeSeries(join(tmp.path, 'series'), { modality: 'CT', rows: 32, columns: 32, slices: 5, seed: 'rec' })
    const open = async (): Promise<Awaited<ReturnType<typeof openStandaloneEdge>>> =>
      await openStandaloneEdge({ dataDir: join(tmp.path, 'node'), logger: prefixLogger('rec'), aeTitle: 'DM2', quietPeriodMs: 60_000 })
    let edge = await open()
    const stored = []
    for (const f of series.files) stored.push(await edge.ingestor.importFile(join(tmp.path, 'series', f.name)))
    const lfn = stored[0]?.lfn ?? ''
    const [a, b, c] = stored
    if (a === undefined || b === undefined || c === undefined) throw new Error('import failed')
    // Simulated crash damage: a lost file, a cut file, a record lost for a whole file, a stray broken file.
    await unlink(a.path)
    await truncate(b.path, 100)
    const relC = edge.store.relative(c.path)
    await edge.registry.dropFile(lfn, c.instanceKey)
    await writeFile(join(edge.store.slicesDir, lfn, 'stray.dcm'), 'not dicom')
    await edge.close()

    edge = await open()
    try {
      const instances = await edge.registry.instances(lfn)
      expect(instances.map(i => i.sopInstanceUid).sort()).toEqual(stored.slice(2).map(s => s.sopInstanceUid).sort())
      expect(instances.find(i => i.sopInstanceUid === c.sopInstanceUid)?.file).toBe(relC)
      const s = await edge.registry.get(lfn)
      expect(s?.instances).toBe(3)
      expect(s?.present).toBe(3)
      expect(s?.bytes).toBe(stored.slice(2).reduce((n, x) => n + x.size, 0))
      expect((await edge.store.list()).sort()).toEqual(instances.map(i => i.file).sort())
    } finally {
      await edge.close()
    }
  })
})
