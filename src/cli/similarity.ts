/**
 * `dm2 similar`, `dm2 annotate` and `dm2 features`: content-based similarity
 * through the local running node (its control channel), as the user (key
 * file) with the user's certificate chains, like `dm2 query` and `dm2 get`.
 *
 *   dm2 similar <lfn> --top 10 --measure cr --key me.key --chain a.chain
 *   dm2 similar scan.nii.gz --modality CT --body-part HEART --key me.key --chain a.chain
 *   dm2 annotate <lfn> --diagnosis "dilated cardiomyopathy" --key me.key --chain a.chain
 *   dm2 features index [lfn…]      compute features now (fetching slices from the PACS)
 *   dm2 features status
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { InvalidArgumentError, type Command } from 'commander'
import { readNifti } from '../assembly/index.js'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import type { SimilarResult } from '../api/similar.js'
import type { IndexOutcome } from '../node/similarity/index.js'
import { loadKeyFile } from '../sac/index.js'
import { encodeFeatures, extractFeatures, isMeasureName, type MeasureName } from '../similarity/index.js'
import { collect, parsePositiveInt } from './options.js'
import { readChainFile } from './sac.js'
import { connectToNode } from './status.js'
import { formatTable } from './table.js'

interface UserOptions {
  config: string
  key: string
  chain?: string[]
  json?: boolean
}

interface SimilarCliOptions extends UserOptions {
  top: number
  measure: MeasureName
  where?: string
  withDiagnosis?: boolean
  timeout?: number
  modality?: string
  bodyPart?: string
}

function parseMeasure (value: string): MeasureName {
  if (!isMeasureName(value)) throw new InvalidArgumentError('one of ncc, nmi, cr')
  return value
}

function parseTop (value: string): number {
  const n = parsePositiveInt(value)
  if (n > 100) throw new InvalidArgumentError('at most 100')
  return n
}

/** The user's key seed and certificates, as the control commands take them. */
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

/** A NIfTI file given as the query: its features, computed here (only they reach the node). */
async function fileFeatures (path: string, opts: SimilarCliOptions): Promise<string> {
  if (opts.modality === undefined) throw new InvalidArgumentError('--modality is required with a volume file')
  const img = readNifti(new Uint8Array(await readFile(path)), path)
  const scaled = Number.isFinite(img.sclSlope) && img.sclSlope !== 0 && Number.isFinite(img.sclInter)
  const features = extractFeatures({
    data: img.data,
    dims: [img.dims[0] ?? 1, img.dims[1] ?? 1, img.dims[2] ?? 1],
    affine: img.sform,
    rescale: scaled ? { slope: img.sclSlope, intercept: img.sclInter } : { slope: 1, intercept: 0 },
    modality: opts.modality,
    bodyPart: opts.bodyPart ?? ''
  })
  return Buffer.from(encodeFeatures(features)).toString('base64')
}

/** The results as a table, best first, then what was missing. */
export function formatSimilar (r: SimilarResult): string {
  const rows = r.results.map((h, i) => [String(i + 1), h.score.toFixed(4), h.lfn, h.site.slice(-8), h.modality, h.bodyPart, h.diagnosis ?? ''])
  const lines = [formatTable([['#', 'score', 'lfn', 'site', 'modality', 'bodyPart', 'diagnosis'], ...rows])]
  const notes = [`${r.results.length} series like ${r.query.lfn ?? 'the volume'} (${r.query.modality}${r.query.bodyPart === '' ? '' : ` ${r.query.bodyPart}`})`]
  if (r.partial.length > 0) notes.push(`partial: no answer from ${r.partial.map(p => `${p.site.slice(-8)} (${p.reason})`).join(', ')}`)
  if (r.where !== undefined) notes.push(`where: ${r.where.matched} series matched${r.where.truncated ? ' (truncated)' : ''}`)
  lines.push('', notes.join('; '))
  return lines.join('\n')
}

export function registerSimilarity (program: Command): void {
  withUser(program.command('similar')
    .description('rank the federation\'s series by similarity to a series (LFN) or a NIfTI volume; the comparison runs at each site')
    .argument('<query>', 'an LFN, or a .nii/.nii.gz file (with --modality)')
    .option('--top <n>', 'how many results (1–100)', parseTop, 10)
    .option('--measure <m>', 'ncc, nmi or cr (correlation ratio)', parseMeasure, 'cr' as MeasureName)
    .option('--where <query>', 'keep only series matching this metadata query (needs the query right)')
    .option('--with-diagnosis', 'rank only series with a known diagnosis')
    .option('--timeout <ms>', 'per-site deadline', parsePositiveInt)
    .option('--modality <cs>', 'modality of a volume file, e.g. CT')
    .option('--body-part <cs>', 'body part of a volume file, e.g. HEART'))
    .action(async (query: string, opts: SimilarCliOptions) => {
      const isFile = /\.nii(\.gz)?$/i.test(query) && existsSync(query)
      const params: Record<string, unknown> = {
        ...(await userParams(opts)),
        ...(isFile ? { features: await fileFeatures(query, opts) } : { lfn: query }),
        measure: opts.measure,
        topK: opts.top,
        ...(opts.where === undefined ? {} : { where: opts.where }),
        ...(opts.withDiagnosis === true ? { requireDiagnosis: true } : {}),
        ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout })
      }
      const client = await connectToNode(opts.config)
      try {
        const r = await client.call<SimilarResult>('similar', params)
        console.log(opts.json === true ? JSON.stringify(r, null, 2) : formatSimilar(r))
      } finally {
        client.close()
      }
    })

  withUser(program.command('annotate')
    .description('attach your signed diagnosis to a series, at its master site (needs the annotate right)')
    .argument('<lfn>', 'the series\' logical file name')
    .requiredOption('--diagnosis <text>', 'the diagnosis (≤ 2000 characters)'))
    .action(async (lfn: string, opts: UserOptions & { diagnosis: string }) => {
      const client = await connectToNode(opts.config)
      try {
        const r = await client.call<{ id: string, lfn: string, master: string }>('annotate', { ...(await userParams(opts)), lfn, diagnosis: opts.diagnosis })
        console.log(opts.json === true ? JSON.stringify(r, null, 2) : `diagnosis ${r.id} attached to ${r.lfn} at ${r.master}`)
      } finally {
        client.close()
      }
    })

  const features = program.command('features').description('the similarity feature index of the local node')
  features.command('index')
    .description('compute features now for the given series (slices fetched from the PACS if needed), or catch up on every registered series')
    .argument('[lfn...]', 'series to index (default: every registered series not indexed yet)')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--json', 'print JSON')
    .action(async (lfns: string[], opts: { config: string, json?: boolean }) => {
      const client = await connectToNode(opts.config)
      try {
        const { outcomes } = await client.call<{ outcomes: IndexOutcome[] }>('similarity.index', { lfns })
        if (opts.json === true) { console.log(JSON.stringify(outcomes, null, 2)); return }
        console.log(formatTable([['lfn', 'status', 'version', 'reason'], ...outcomes.map(o => [o.lfn, o.status, String(o.version ?? ''), o.reason ?? ''])]))
        if (outcomes.some(o => o.status === 'failed')) process.exitCode = 1
      } finally {
        client.close()
      }
    })
  features.command('status')
    .description('series indexed, features in memory, queries served')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--json', 'print JSON')
    .action(async (opts: { config: string, json?: boolean }) => {
      const client = await connectToNode(opts.config)
      try {
        const s = await client.call<Record<string, unknown>>('similarity.status')
        console.log(opts.json === true ? JSON.stringify(s, null, 2) : Object.entries(s).map(([k, v]) => `${k.padEnd(12)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n'))
      } finally {
        client.close()
      }
    })
}
