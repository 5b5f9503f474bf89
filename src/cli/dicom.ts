/**
 * `dm2 dicom echo|find|get|import`, `dm2 register`, `dm2 series list|delete`:
 * the DICOM edge from the command line. For now each command opens the
 * hospital's data directory itself (see src/dicom/standalone.ts), so the node
 * must not be running; a control channel to a running node comes later.
 */
import { readdir, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Command } from 'commander'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import { loadConfig, type HospitalConfig } from '../config/load.js'
import {
  PacsNotConfiguredError, VIRTUAL_KEYS, identifierFor, openStandaloneEdge, registerVirtualSeries, retrieveSeries, toAttributes,
  type QueryLevel, type RetrieveProgress, type StandaloneEdge
} from '../dicom/index.js'
import { hospitalLogger, setLogLevel } from '../log/index.js'
import type { AttrValue, SeriesSummary } from '../registry/index.js'
import { collect, parsePositiveInt } from './options.js'
import { formatTable } from './table.js'

interface Common { config: string, timeout?: number }

/** The slice of cli-progress used here (the package ships no declarations). */
interface Bar {
  start: (total: number, value: number, payload?: Record<string, string>) => void
  setTotal: (total: number) => void
  update: (value: number, payload?: Record<string, string>) => void
  stop: () => void
}
interface CliProgress {
  SingleBar: new (options: Record<string, unknown>, preset: unknown) => Bar
  Presets: { shades_classic: unknown }
}
const cliProgress = createRequire(import.meta.url)('cli-progress') as CliProgress

function configOption (cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--timeout <ms>', 'deadline of the operation', parsePositiveInt)
}

async function withEdge<T> (opts: Common, needs: { pacs?: boolean, scp?: boolean, readOnly?: boolean }, fn: (edge: StandaloneEdge, config: HospitalConfig) => Promise<T>): Promise<T> {
  const config = await loadConfig({ file: opts.config })
  setLogLevel(config.log.level)
  if (needs.pacs === true && config.pacs === undefined) throw new PacsNotConfiguredError()
  const edge = await openStandaloneEdge({
    dataDir: config.dataDir,
    logger: hospitalLogger(config.name),
    aeTitle: config.dicom.aeTitle,
    recover: needs.readOnly !== true,
    ...(needs.scp === true ? { scp: { host: config.dicom.host, port: config.dicom.port } } : {}),
    ...(needs.pacs === true && config.pacs !== undefined ? { pacs: config.pacs } : {})
  })
  try {
    return await fn(edge, config)
  } finally {
    await edge.close()
  }
}

function signalOf (opts: Common): AbortSignal | undefined {
  return opts.timeout === undefined ? undefined : AbortSignal.timeout(opts.timeout)
}

function text (v: AttrValue | undefined): string {
  if (v === undefined) return ''
  return Array.isArray(v) ? v.join('\\') : String(v)
}

/** `key=value` or `key` (asked, universal match). */
function parseKeys (pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of pairs) {
    const i = p.indexOf('=')
    out[i < 0 ? p : p.slice(0, i)] = i < 0 ? '' : p.slice(i + 1)
  }
  return out
}

function progressBar (): { update: (p: RetrieveProgress) => void, stop: () => void } {
  if (process.stderr.isTTY !== true) return { update: () => {}, stop: () => {} }
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} instances, {mb} MB' }, cliProgress.Presets.shades_classic)
  let started = false
  return {
    update: p => {
      if (!started) { bar.start(p.total, 0, { mb: '0.0' }); started = true }
      bar.setTotal(p.total)
      bar.update(p.completed + p.failed, { mb: (p.bytes / 1e6).toFixed(1) })
    },
    stop: () => { if (started) bar.stop() }
  }
}

async function filesUnder (path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path]
  const out: string[] = []
  for (const entry of (await readdir(path)).sort()) out.push(...await filesUnder(join(path, entry)))
  return out
}

function seriesRows (list: SeriesSummary[], identified: boolean): string[][] {
  const head = ['LFN', 'STATE', 'V', 'MODALITY', 'BODY PART', 'DESCRIPTION', 'SLICES', 'SIZE']
  if (identified) head.push('PATIENT', 'PATIENT ID', 'STUDY DATE', 'ACCESSION')
  return [head, ...list.map(s => {
    const d = s.descriptive
    const row = [s.lfn, s.state, String(s.version), text(d.Modality), text(d.BodyPartExamined), text(d.SeriesDescription),
      `${s.present}/${s.instances}`, `${text(d.Columns)}x${text(d.Rows)}`]
    if (identified) {
      const i = s.identifying ?? {}
      row.push(text(i.PatientName), text(i.PatientID), text(i.StudyDate), text(i.AccessionNumber))
    }
    return row
  })]
}

export function registerDicom (program: Command): void {
  const dicom = program.command('dicom').description('the DICOM edge: the hospital PACS and DICOM files')

  configOption(dicom.command('echo').description('C-ECHO the configured PACS'))
    .action(async (opts: Common) => {
      await withEdge(opts, { pacs: true }, async (edge, config) => {
        const t0 = performance.now()
        await edge.pool?.echo({ signal: signalOf(opts) ?? AbortSignal.timeout(10_000) })
        console.log(`C-ECHO ${config.pacs?.aeTitle ?? ''}@${config.pacs?.host ?? ''}:${config.pacs?.port ?? ''}: ok (${(performance.now() - t0).toFixed(0)} ms)`)
      })
    })

  configOption(dicom.command('find').description('C-FIND on the PACS; prints one row per match'))
    .option('-l, --level <level>', 'PATIENT, STUDY, SERIES or IMAGE', 'STUDY')
    .option('-k, --key <key[=value]>', 'attribute to match or return, repeatable', collect, [])
    .option('--json', 'print JSON')
    .action(async (opts: Common & { level: string, key: string[], json?: boolean }) => {
      const level = opts.level.toUpperCase() as QueryLevel
      const defaults = level === 'PATIENT' ? ['PatientName', 'PatientID', 'PatientBirthDate'] : VIRTUAL_KEYS[level as 'STUDY' | 'SERIES' | 'IMAGE'] ?? []
      const asked = parseKeys(opts.key)
      await withEdge(opts, { pacs: true }, async edge => {
        const rows = await edge.pool?.find(identifierFor(level, [...defaults, ...Object.keys(asked)], asked), { signal: signalOf(opts) }) ?? []
        const flat = rows.map(toAttributes)
        if (opts.json === true) { console.log(JSON.stringify(flat, null, 2)); return }
        const keys = [...new Set([...defaults, ...Object.keys(asked)])]
        console.log(formatTable([keys, ...flat.map(r => keys.map(k => text(r[k])))]))
        console.log(`${flat.length} match${flat.length === 1 ? '' : 'es'}`)
      })
    })

  configOption(dicom.command('get').description('retrieve a series from the PACS into the slice store and register it'))
    .requiredOption('--study <uid>', 'StudyInstanceUID')
    .requiredOption('--series <uid>', 'SeriesInstanceUID')
    .option('--move', 'C-MOVE to this node\'s SCP instead of C-GET')
    .option('--virtual', 'register from C-FIND only; slices are fetched on demand later')
    .action(async (opts: Common & { study: string, series: string, move?: boolean, virtual?: boolean }) => {
      await withEdge(opts, { pacs: true, scp: opts.move === true }, async edge => {
        const pool = edge.pool
        if (pool === undefined) throw new PacsNotConfiguredError()
        const signal = signalOf(opts)
        if (opts.virtual === true) {
          const s = await registerVirtualSeries({ pool, registry: edge.registry }, opts.study, opts.series, signal === undefined ? {} : { signal })
          console.log(`registered ${s.lfn} v${s.version} (virtual: ${s.instances} instances at the PACS)`)
          return
        }
        const bar = progressBar()
        const t0 = performance.now()
        try {
          const r = await retrieveSeries({ pool, registry: edge.registry }, opts.study, opts.series, {
            method: opts.move === true ? 'move' : 'get', onProgress: bar.update, ...(signal === undefined ? {} : { signal })
          })
          bar.stop()
          const s = (performance.now() - t0) / 1000
          console.log(`registered ${r.lfn} v${r.series.version}: ${r.completed} retrieved, ${r.skipped} already here, ${(r.bytes / 1e6).toFixed(1)} MB in ${s.toFixed(1)} s`)
        } finally {
          bar.stop()
        }
      })
    })

  configOption(dicom.command('import').description('import Part 10 files (or folders of them) into the slice store'))
    .argument('<paths...>', 'files or folders')
    .action(async (paths: string[], opts: Common) => {
      await withEdge(opts, {}, async edge => {
        let failed = 0
        for (const file of (await Promise.all(paths.map(filesUnder))).flat()) {
          try {
            const r = await edge.ingestor.importFile(file)
            console.log(`ok      ${file} -> ${r.lfn}`)
          } catch (err) {
            failed++
            console.log(`FAILED  ${file}: ${(err as Error).message}`)
          }
        }
        if (failed > 0) process.exitCode = 1
      })
    })

  configOption(program.command('register').description('register series now, without waiting for the quiet period'))
    .argument('<series...>', 'LFN or SeriesInstanceUID')
    .action(async (ids: string[], opts: Common) => {
      await withEdge(opts, {}, async edge => {
        for (const id of ids) {
          const s = await edge.registry.register(id)
          console.log(`registered ${s.lfn} v${s.version} (${s.present}/${s.instances} instances here)`)
        }
      })
    })

  const series = program.command('series').description('series (LFNs) registered at this hospital')
  configOption(series.command('list').description('list series: descriptive fields only unless --identified'))
    .option('--identified', 'also show patient and study identifiers (local use only)')
    .option('--modality <m>', 'only this modality')
    .option('--body-part <b>', 'only this body part')
    .option('--state <s>', 'receiving or registered')
    .option('--json', 'print JSON')
    .action(async (opts: Common & { identified?: boolean, modality?: string, bodyPart?: string, state?: string, json?: boolean }) => {
      await withEdge(opts, { readOnly: true }, async edge => {
        const list = await edge.registry.list({
          identified: opts.identified === true,
          ...(opts.modality === undefined ? {} : { modality: opts.modality }),
          ...(opts.bodyPart === undefined ? {} : { bodyPart: opts.bodyPart }),
          ...(opts.state === 'receiving' || opts.state === 'registered' ? { state: opts.state } : {})
        })
        if (opts.json === true) { console.log(JSON.stringify(list, null, 2)); return }
        console.log(formatTable(seriesRows(list, opts.identified === true)))
      })
    })

  configOption(series.command('delete').description('local administrator: forget a series and delete its slices (never reachable from the federation)'))
    .argument('<lfn>', 'the series')
    .option('--yes', 'really delete')
    .action(async (lfn: string, opts: Common & { yes?: boolean }) => {
      if (opts.yes !== true) throw new Error('refusing to delete without --yes')
      await withEdge(opts, {}, async edge => {
        const files = await edge.registry.adminDelete(lfn)
        for (const f of files) await edge.store.remove(f)
        console.log(`deleted ${lfn} (${files.length} slices)`)
      })
    })
}
