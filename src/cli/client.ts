/**
 * `dm2 query` and `dm2 get`: the user's commands, run by the local node over
 * its control channel, as the user (key file) with the user's certificate
 * chains (files written by `dm2 sac issue|delegate`).
 */
import { resolve } from 'node:path'
import { createRequire } from 'node:module'
import { Option, type Command } from 'commander'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import type { GetImageEvent, GetImageResult } from '../api/get-image.js'
import type { FanOutResult } from '../protocols/query/index.js'
import { loadKeyFile } from '../sac/index.js'
import { collect } from './options.js'
import { readChainFile } from './sac.js'
import { connectToNode } from './status.js'
import { formatTable } from './table.js'

interface UserOptions {
  config: string
  key: string
  chain?: string[]
  json?: boolean
}

async function userParams (opts: UserOptions): Promise<{ seed: string, certificates: string[] }> {
  const key = await loadKeyFile(opts.key)
  const certificates: string[] = []
  for (const file of opts.chain ?? []) {
    for (const c of (await readChainFile(file)).chain) certificates.push(Buffer.from(c).toString('base64'))
  }
  return { seed: Buffer.from(key.signer.seed).toString('base64'), certificates }
}

function withUser (command: Command): Command {
  return command
    .option('-c, --config <file>', 'the local node\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .requiredOption('--key <file>', 'your key file (dm2 keys new)')
    .option('--chain <file>', 'a certificate chain you hold (dm2 sac issue/delegate), repeatable', collect)
    .option('--json', 'print JSON')
}

export function registerClient (program: Command): void {
  withUser(program.command('query')
    .description('find series across the federation, e.g. dm2 query \'modality = "CT" AND bodyPart = "HEART"\'')
    .argument('<where>', 'query (fields, =, !=, <, >, BETWEEN, LIKE "prefix*", IN, AND/OR/NOT)')
    .option('--identified', 'also ask for identifying fields (needs meta/read-identified)'))
    .action(async (where: string, opts: UserOptions & { identified?: boolean }) => {
      const client = await connectToNode(opts.config)
      try {
        const r = await client.call<FanOutResult>('query', { ...(await userParams(opts)), where, identified: opts.identified === true })
        if (opts.json === true) { console.log(JSON.stringify(r, null, 2)); return }
        const keys = [...new Set(r.results.flatMap(x => Object.keys(x.fields)))].filter(k => k !== 'lfn' && k !== 'site').slice(0, 6)
        console.log(formatTable([['lfn', 'site', ...keys], ...r.results.map(x => [x.lfn, String(x.fields.site ?? ''), ...keys.map(k => String(x.fields[k] ?? ''))])]))
        console.log(`\n${r.results.length} series${r.truncated ? ' (truncated)' : ''}${r.partial.length > 0 ? `; no answer from ${r.partial.map(p => `${p.peer.slice(-8)} (${p.reason})`).join(', ')}` : ''}`)
      } finally {
        client.close()
      }
    })

  withUser(program.command('get')
    .description('fetch a series as a NIfTI volume (or its de-identified DICOM objects), from its master and replicas')
    .argument('<lfn>', 'the series\' logical file name')
    .requiredOption('-o, --out <path>', 'output .nii or .nii.gz file; with --format dicom, a new folder')
    .addOption(new Option('--format <format>', 'nifti: the assembled volume; dicom: the series\' objects, de-identified at the master').choices(['nifti', 'dicom']).default('nifti'))
    .option('--no-copy', 'fetch everything from the network, and keep no copy at this hospital (otherwise as the node\'s keepCopies setting says: by default, a copy of what is fetched is kept, and read again while the master says it is current)'))
    .action(async (lfn: string, opts: UserOptions & { out: string, format: 'nifti' | 'dicom', copy: boolean }) => {
      const client = await connectToNode(opts.config)
      const { SingleBar, Presets } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress')
      const bar = new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} chunks | {mb} MB | {sources} source(s) | {rate} MB/s', hideCursor: true, stream: process.stderr }, Presets.shades_classic)
      const started = Date.now()
      let barStarted = false
      try {
        const result = await client.call<GetImageResult>('get', { ...(await userParams(opts)), lfn, out: resolve(opts.out), format: opts.format, ...(opts.copy ? {} : { localCopy: false }) }, {
          onProgress: (raw) => {
            const e = raw as GetImageEvent
            if (e.step === 'fetch') {
              const mb = e.bytes / 1e6
              const payload = { mb: mb.toFixed(1), sources: e.sources, rate: (mb / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) }
              if (!barStarted) { bar.start(e.totalChunks, 0, payload); barStarted = true }
              bar.update(e.chunks, payload)
            } else if (process.stderr.isTTY !== true || !barStarted) {
              console.error(`${e.step}…`)
            }
          }
        })
        if (barStarted) bar.stop()
        if (opts.json === true) { console.log(JSON.stringify(result, null, 2)); return }
        console.log(`${result.lfn} v${result.version}: ${result.bytes} bytes → ${resolve(opts.out)} in ${result.ms.toFixed(0)} ms (from ${Object.keys(result.sources).length} source(s))`)
      } finally {
        if (barStarted) bar.stop()
        client.close()
      }
    })
}
