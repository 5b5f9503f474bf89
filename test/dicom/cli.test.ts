/**
 * `dm2 dicom echo|find|get|import`, `dm2 register`, `dm2 series list|delete`,
 * standalone on a config file. The PACS here is another node's SCP (it
 * answers C-FIND, C-GET and C-MOVE like one).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { registerDicom } from '../../src/cli/dicom.js'
import { writeSeries, type GeneratedSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'
import { openDicomEdge, type Edge } from './helpers/edge.js'
import { freePort } from './helpers/tools.js'

const MALFORMED = fileURLToPath(new URL('../../../shared/dicom-samples/malformed/', import.meta.url))

describe('dm2 dicom / register / series', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let pacs: Edge
  let config: string
  const series: GeneratedSeries[] = []

  beforeAll(async () => {
    tmp = await tempDir('dm2-cli-')
    const cliPort = await freePort()
    pacs = await openDicomEdge({ dir: join(tmp.path, 'pacs'), options: { moveDestinations: { CLINODE: { host: '127.0.0.1', port: cliPort } } } })
    for (const seed of [31, 32]) {
      const dir = join(tmp.path, `series-${seed}`)
      const s = await writeSeries(dir, { rows: 32, columns: 32, slices: 5, seed })
      series.push(s)
      for (const f of s.files) await pacs.ingestor.importFile(join(dir, f.name))
    }
    config = join(tmp.path, 'hospital', 'dm2.json')
    await mkdir(join(tmp.path, 'hospital'))
    await writeFile(config, JSON.stringify({
      name: 'CLI Hospital',
      dataDir: '.',
      dicom: { aeTitle: 'CLINODE', host: '127.0.0.1', port: cliPort },
      pacs: { aeTitle: 'DM2', host: '127.0.0.1', port: pacs.scp.port },
      log: { level: 'silent' }
    }))
  })
  afterEach(() => { vi.restoreAllMocks(); process.exitCode = undefined })
  afterAll(async () => {
    await pacs?.close()
    await tmp?.remove()
  })

  async function dm2 (...args: string[]): Promise<string> {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.map(String).join(' ')) })
    const program = new Command('dm2').exitOverride()
    registerDicom(program)
    const withConfig = args[0] === 'dicom' || args[0] === 'series' ? [...args.slice(0, 2), '-c', config, ...args.slice(2)] : [args[0] ?? '', '-c', config, ...args.slice(1)]
    await program.parseAsync(['node', 'dm2', ...withConfig])
    vi.restoreAllMocks()
    return lines.join('\n')
  }

  it('echoes and finds at the PACS', async () => {
    expect(await dm2('dicom', 'echo')).toMatch(/^C-ECHO DM2@127\.0\.0\.1:\d+: ok/)
    const out = await dm2('dicom', 'find', '--level', 'SERIES', '-k', `StudyInstanceUID=${series[0]?.meta.studyInstanceUID ?? ''}`)
    expect(out).toContain(series[0]?.meta.seriesInstanceUID)
    expect(out).toMatch(/1 match$/)
  })

  it('registers virtually, fetches by C-GET, retrieves by C-MOVE, lists', async () => {
    const [a, b] = series as [GeneratedSeries, GeneratedSeries]
    expect(await dm2('dicom', 'get', '--study', a.meta.studyInstanceUID, '--series', a.meta.seriesInstanceUID, '--virtual'))
      .toMatch(/^registered [a-z2-7]{32} v1 \(virtual: 5 instances at the PACS\)$/)
    expect(await dm2('series', 'list', '--state', 'registered')).toMatch(/registered\s+1\s+CT\s+.*0\/5/)
    expect(await dm2('dicom', 'get', '--study', a.meta.studyInstanceUID, '--series', a.meta.seriesInstanceUID))
      .toMatch(/v1: 5 retrieved, 0 already here/)
    expect(await dm2('dicom', 'get', '--move', '--study', b.meta.studyInstanceUID, '--series', b.meta.seriesInstanceUID))
      .toMatch(/v1: 5 retrieved/)
    const plain = await dm2('series', 'list')
    expect(plain.split('\n')).toHaveLength(3)
    expect(plain).not.toContain(a.meta.identity.patientName)
    const identified = await dm2('series', 'list', '--identified')
    expect(identified).toContain(a.meta.identity.patientName)
    expect(identified).toContain(a.meta.identity.patientId)
  })

  it('imports files with a status per file, registers and deletes locally', async () => {
    const out = await dm2('dicom', 'import', MALFORMED)
    expect(out.split('\n').filter(l => l.startsWith('FAILED'))).toHaveLength(8)
    expect(process.exitCode).toBe(1)
    process.exitCode = undefined
    const dir = join(tmp.path, 'extra')
    await writeSeries(dir, { rows: 16, columns: 16, slices: 2, seed: 40 })
    const imported = await dm2('dicom', 'import', dir)
    const lfn = /-> ([a-z2-7]{32})/.exec(imported)?.[1] ?? ''
    expect(imported.split('\n').filter(l => l.startsWith('ok'))).toHaveLength(2)
    expect(await dm2('register', lfn)).toBe(`registered ${lfn} v1 (2/2 instances here)`)
    await expect(dm2('series', 'delete', lfn)).rejects.toThrow(/--yes/)
    expect(await dm2('series', 'delete', lfn, '--yes')).toBe(`deleted ${lfn} (2 slices)`)
    expect(await dm2('series', 'list')).not.toContain(lfn)
  })
})
