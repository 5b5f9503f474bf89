/**
 * Writing a series as NIfTI-1 (.nii, or .nii.gz through node:zlib) plus its
 * JSON sidecar. Slices stream through gzip one at a time; the file appears
 * under its name only when complete (written to a temporary name, renamed).
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { endianness } from 'node:os'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { assembledSlices } from './assemble.js'
import { DEFAULT_GZIP_LEVEL } from './constants.js'
import { AssemblyError } from './errors.js'
import { planAssembly } from './plan.js'
import type { AssembleOptions, AssemblyPlan } from './plan.js'
import { sourcesFromDirectory } from './sources.js'
import type { SliceSource } from './sources.js'

export interface WriteResult {
  plan: AssemblyPlan
  nifti: string
  sidecar: string | undefined
}

/** `out.nii.gz` → `out.json`; `out.nii` → `out.json`. */
export function sidecarPath (out: string): string {
  return out.replace(/\.nii(\.gz)?$/i, '') + '.json'
}

export interface WriteOptions extends AssembleOptions {
  /** Write the JSON sidecar next to the volume (default true). */
  sidecar?: boolean
  /** zlib level for .nii.gz (default DEFAULT_GZIP_LEVEL). */
  gzipLevel?: number
}

/**
 * Assembles `input` (a folder of one series, or sources) into `out`
 * (.nii or .nii.gz) and its sidecar.
 *
 * @example
 * const { plan } = await writeVolume('/data/series-1', '/tmp/series-1.nii.gz')
 * for (const w of plan.warnings) console.error(w.message)
 */
export async function writeVolume (input: string | SliceSource[], out: string, options: WriteOptions = {}): Promise<WriteResult> {
  if (endianness() !== 'LE') throw new AssemblyError('NIfTI output is written little-endian; this host is big-endian')
  if (!/\.nii(\.gz)?$/i.test(out)) throw new AssemblyError(`${out}: output name must end in .nii or .nii.gz`)
  const sources = typeof input === 'string' ? await sourcesFromDirectory(input) : input
  const plan = await planAssembly(sources, options)
  const gzip = /\.gz$/i.test(out)
  await mkdir(dirname(out), { recursive: true })
  const tmp = `${out}.${randomBytes(6).toString('hex')}.part`
  async function * bytes (): AsyncGenerator<Uint8Array> {
    yield plan.header
    for await (const slice of assembledSlices(plan, options)) {
      yield new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength)
    }
  }
  try {
    const file = createWriteStream(tmp, { mode: 0o644 })
    if (gzip) await pipeline(Readable.from(bytes()), createGzip({ level: options.gzipLevel ?? DEFAULT_GZIP_LEVEL }), file, { signal: options.signal })
    else await pipeline(Readable.from(bytes()), file, { signal: options.signal })
    let sidecar: string | undefined
    if (options.sidecar ?? true) {
      sidecar = sidecarPath(out)
      await writeFile(`${sidecar}.part`, JSON.stringify(plan.sidecar, null, 2) + '\n')
      await rename(`${sidecar}.part`, sidecar)
    }
    await rename(tmp, out)
    return { plan, nifti: out, sidecar }
  } catch (err) {
    await rm(tmp, { force: true })
    if (options.sidecar ?? true) await rm(`${sidecarPath(out)}.part`, { force: true })
    throw err
  }
}
