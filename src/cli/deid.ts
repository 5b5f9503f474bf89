/** `dm2 deid <file-or-dir> -o <dir>`: de-identify DICOM files (PS3.15 Annex E basic profile) for local use. */
import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'
import {
  createDeidentifier, DEFAULT_MAX_INPUT_BYTES, DeidInputTooLargeError, parsePixelRules, silenceParserWarnings
} from '../privacy/deid/index.js'
import type { DateHandling, DeidReport, PixelCleaningRule } from '../privacy/deid/index.js'
import { loadOrCreateSecretFile, readSecretFile } from '../privacy/deid/secret.js'

/** Name of the site secret created next to the output folder when --secret-file is not given. */
export const DEFAULT_SECRET_FILE_NAME = 'dm2-deid.secret'

interface DeidCliOptions {
  output: string
  secretFile?: string
  dates: DateHandling
  retainDeviceIdentity?: boolean
  pixelRules?: string
  maxSize?: number
  report?: string
  quiet?: boolean
}

/** Some inputs were refused; the list has been printed on stderr. */
export class DeidRefusedInputsError extends Error {
  static override name = 'DeidRefusedInputsError'
  readonly refused: string[]
  constructor (refused: string[]) {
    super(`${refused.length} input(s) refused: ${refused.join(', ')}`)
    this.name = 'DeidRefusedInputsError'
    this.refused = refused
  }
}

function parseDates (value: string): DateHandling {
  if (value !== 'remove' && value !== 'full' && value !== 'modified') throw new InvalidArgumentError('one of remove, full, modified')
  return value
}

function parseMiB (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('a whole number of MiB ≥ 1')
  return Number(value) * 1024 * 1024
}

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(dir + sep)

interface Input { path: string, rel: string, skip?: string }

/** Files under `root` (sorted, symbolic links not followed), leaving out `exclude` paths and folders. */
async function listInputs (root: string, exclude: string[]): Promise<Input[]> {
  const info = await lstat(root)
  if (info.isFile()) return [{ path: root, rel: basename(root) }]
  if (!info.isDirectory()) throw new Error(`${root} is neither a file nor a folder`)
  const out: Input[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name)
      if (exclude.some(x => inside(path, x))) continue
      const st = await lstat(path)
      if (st.isDirectory()) await walk(path)
      else if (st.isFile()) out.push({ path, rel: relative(root, path) })
      else out.push({ path, rel: relative(root, path), skip: 'not a regular file (links are not followed)' })
    }
  }
  await walk(root)
  return out
}

/** Write via a temporary name and rename, so a failure leaves no partial file. */
async function writeAtomic (target: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true })
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(tmp, bytes, { mode: 0o640 })
    await rename(tmp, target)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

async function loadRules (file: string | undefined): Promise<PixelCleaningRule[]> {
  if (file === undefined) return []
  try {
    return parsePixelRules(JSON.parse(await readFile(file, 'utf8')))
  } catch (err) {
    throw new Error(`${file}: not a valid pixel-rules file (${err instanceof Error ? err.message.split('\n')[0] ?? '' : 'error'})`)
  }
}

export function registerDeid (program: Command): void {
  program.command('deid')
    .description('de-identify DICOM files with the PS3.15 Annex E Basic Application Level Confidentiality Profile')
    .argument('<file-or-dir>', 'a DICOM file, or a folder searched recursively')
    .requiredOption('-o, --output <dir>', 'output folder: one de-identified file per input, under the same relative name')
    .option('--secret-file <file>', `site secret for the keyed UID mapping and date shift (hex, ≥ 32 bytes); without it, ${DEFAULT_SECRET_FILE_NAME} in the output folder's parent is used, created (0600, with a warning) if missing`)
    .option('--dates <mode>', 'remove (basic profile), full (Retain Longitudinal Full Dates), modified (dates shifted per patient)', parseDates, 'remove' as DateHandling)
    .option('--retain-device-identity', 'Retain Device Identity Option (station name, serial numbers, ...)')
    .option('--pixel-rules <file>', 'JSON rules that blank burned-in text regions; without a matching rule, US/XA/RF/secondary capture images and any with Burned In Annotation not NO are refused')
    .option('--max-size <MiB>', `largest input file accepted, in MiB (default: ${DEFAULT_MAX_INPUT_BYTES / 1024 / 1024})`, parseMiB)
    .option('--report <file>', 'write a JSON report: per input, the tags removed/emptied/replaced (never values), or why it was refused')
    .option('-q, --quiet', 'print nothing but warnings and refusals')
    .addHelpText('after', '\nExits with status 1 and lists the refused inputs on stderr when any input is refused (not DICOM, malformed,\n' +
      'truncated, too large, a DICOMDIR, or possibly carrying burned-in text). File names are kept: rename inputs first\n' +
      'if their names identify patients. Keep the secret file: the same secret always gives the same new UIDs.')
    .action(async (input: string, opts: DeidCliOptions) => {
      silenceParserWarnings()
      const root = resolve(input)
      const out = resolve(opts.output)
      // The output may sit inside the input folder (it is skipped), not the other way round.
      if (inside(root, out)) throw new Error('the output folder must not be the input or contain it')
      const secretPath = resolve(opts.secretFile ?? join(dirname(out), DEFAULT_SECRET_FILE_NAME))
      let secret: Uint8Array
      if (opts.secretFile !== undefined) secret = await readSecretFile(secretPath)
      else {
        await mkdir(dirname(secretPath), { recursive: true })
        const loaded = await loadOrCreateSecretFile(secretPath)
        secret = loaded.secret
        if (loaded.created) console.error(`warning: no --secret-file given; created a new site secret ${secretPath} (mode 0600). Keep it private and reuse it: it decides the new UIDs and date shifts.`)
      }
      const maxSize = opts.maxSize ?? DEFAULT_MAX_INPUT_BYTES
      const deid = createDeidentifier({
        secret,
        dates: opts.dates,
        retainDeviceIdentity: opts.retainDeviceIdentity === true,
        pixelCleaningRules: await loadRules(opts.pixelRules),
        maxInputBytes: maxSize
      })
      const inputs = await listInputs(root, [out, secretPath])
      const written: Array<{ input: string, report: DeidReport }> = []
      const refused: Array<{ input: string, error: string, message: string }> = []
      for (const { path, rel, skip } of inputs) {
        try {
          if (skip !== undefined) throw new Error(skip)
          if ((await lstat(path)).size > maxSize) throw new DeidInputTooLargeError(maxSize)
          const { bytes, report } = deid.deidentify(await readFile(path))
          await writeAtomic(join(out, rel), bytes)
          written.push({ input: rel, report })
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err))
          refused.push({ input: rel, error: e.name, message: e.message })
          console.error(`refused: ${rel}: ${e.name}: ${e.message}`)
        }
      }
      if (opts.report !== undefined) await writeFile(resolve(opts.report), JSON.stringify({ output: out, written, refused }, null, 2) + '\n')
      if (opts.quiet !== true) console.log(`de-identified ${written.length} of ${inputs.length} file(s) into ${out}`)
      if (refused.length > 0) throw new DeidRefusedInputsError(refused.map(r => r.input))
    })
}
