/**
 * The synthetic series the simulated PACSes hold, deterministic from a seed.
 * Generating a 512 × 512 phantom costs ~130 ms a series, too slow for the
 * hundreds a throughput run needs, so a few templates are generated and each
 * series is a template with its own UIDs: study, series, frame of reference
 * and SOP instance UIDs are rewritten in place with UIDs of the same length
 * (so no element length changes). Pixel data repeats every `templates`
 * series, which no step of getImage can exploit (each image has its own data
 * key and content id).
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readNifti, writeVolume } from '../../src/assembly/index.js'
import { generateSeries, PAPER_SERIES, type GeneratedSeries } from '../../src/synthetic/index.js'

export interface SeriesShape {
  modality: 'CT' | 'MR'
  rows: number
  columns: number
  slices: number
  noiseSigma?: number
}

/** The paper's images: 3 slices of 512 × 512 × 16 bit (0.5 MB each). */
export const PAPER_SHAPE: SeriesShape = { modality: 'CT', ...PAPER_SERIES }

export interface LibrarySeries {
  index: number
  study: string
  series: string
  sops: string[]
  /** Part 10 files of the series. */
  files: string[]
  /** Bytes of all its files. */
  bytes: number
}

export interface LibraryInit {
  dir: string
  seed: number
  count: number
  shape?: SeriesShape
  /** Distinct pixel contents (default 8). */
  templates?: number
}

/** Digits of the last UID component replaced by the series number. */
const SUFFIX_DIGITS = 10

/** The template's UID with its last digits replaced by `n` (same length, still a valid 2.25 UID). */
export function derivedUid (uid: string, n: number): string {
  const last = uid.slice(uid.lastIndexOf('.') + 1)
  if (last.length <= SUFFIX_DIGITS + 1 || n >= 10 ** SUFFIX_DIGITS) throw new RangeError(`cannot derive series ${n} from ${uid}`)
  return uid.slice(0, uid.length - SUFFIX_DIGITS) + String(n).padStart(SUFFIX_DIGITS, '0')
}

function replaceAll (bytes: Buffer, from: string, to: string): number {
  const a = Buffer.from(from, 'latin1')
  const b = Buffer.from(to, 'latin1')
  let n = 0
  for (let at = bytes.indexOf(a); at >= 0; at = bytes.indexOf(a, at + a.length)) {
    b.copy(bytes, at)
    n++
  }
  return n
}

function template (seed: number, t: number, shape: SeriesShape): GeneratedSeries {
  for (let attempt = 0; ; attempt++) {
    const g = generateSeries({ ...shape, seed: `sim/${seed}/template/${t}/${attempt}` })
    const uids = [g.meta.studyInstanceUID, g.meta.seriesInstanceUID, g.meta.frameOfReferenceUID, ...g.meta.sopInstanceUIDs]
    // A 128-bit decimal is almost always long enough; try another seed otherwise.
    if (uids.every(u => u.length - u.lastIndexOf('.') - 1 > SUFFIX_DIGITS + 1)) return g
  }
}

/** Series `index` of the library, as bytes (the template rewritten). */
function derive (g: GeneratedSeries, index: number): { meta: Omit<LibrarySeries, 'files' | 'bytes'>, files: Array<{ name: string, bytes: Buffer }> } {
  const m = g.meta
  const map = new Map<string, string>([
    [m.studyInstanceUID, derivedUid(m.studyInstanceUID, index)],
    [m.seriesInstanceUID, derivedUid(m.seriesInstanceUID, index)],
    [m.frameOfReferenceUID, derivedUid(m.frameOfReferenceUID, index)],
    ...m.sopInstanceUIDs.map((u): [string, string] => [u, derivedUid(u, index)])
  ])
  const files = g.files.map(f => {
    const bytes = Buffer.from(f.bytes)
    for (const [from, to] of map) replaceAll(bytes, from, to)
    return { name: f.name, bytes }
  })
  return {
    meta: { index, study: map.get(m.studyInstanceUID) as string, series: map.get(m.seriesInstanceUID) as string, sops: m.sopInstanceUIDs.map(u => map.get(u) as string) },
    files
  }
}

/**
 * Writes series 0 … count-1 under `dir/s<index>/` (kept between calls with the
 * same seed and shape: a larger count only adds series).
 */
export async function buildLibrary (init: LibraryInit): Promise<LibrarySeries[]> {
  const shape = init.shape ?? PAPER_SHAPE
  const t = init.templates ?? 8
  const stamp = JSON.stringify({ seed: init.seed, shape, templates: t })
  const stampFile = join(init.dir, 'library.json')
  const known = await readFile(stampFile, 'utf8').then(s => JSON.parse(s) as { stamp: string, series: LibrarySeries[] }, () => undefined)
  const have = known?.stamp === stamp ? known.series : []
  if (have.length >= init.count) return have.slice(0, init.count)
  if (known !== undefined && known.stamp !== stamp) await rm(init.dir, { recursive: true, force: true })
  await mkdir(init.dir, { recursive: true })
  const templates = Array.from({ length: Math.min(t, init.count) }, (_, k) => template(init.seed, k, shape))
  const out = [...have]
  for (let index = have.length; index < init.count; index++) {
    const { meta, files } = derive(templates[index % templates.length] as GeneratedSeries, index)
    const dir = join(init.dir, `s${index}`)
    await mkdir(dir, { recursive: true })
    const paths: string[] = []
    for (const f of files) {
      const path = join(dir, f.name)
      await writeFile(path, f.bytes)
      paths.push(path)
    }
    out.push({ ...meta, files: paths, bytes: files.reduce((s, f) => s + f.bytes.length, 0) })
  }
  await writeFile(stampFile, JSON.stringify({ stamp, series: out }))
  return out
}

/** SHA-256 of a NIfTI volume's dimensions and voxels: what "byte-correct" compares. */
export function voxelDigest (nifti: Uint8Array): string {
  const img = readNifti(nifti)
  const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)
  return createHash('sha256').update(JSON.stringify(img.dims)).update(data).digest('hex')
}

/** The reference: the series assembled locally from the PACS's own files; its voxel digest and gzip size. */
export async function referenceOf (series: LibrarySeries, scratch: string): Promise<{ digest: string, niftiBytes: number }> {
  await mkdir(scratch, { recursive: true })
  const out = join(scratch, `reference-${series.index}.nii.gz`)
  await writeVolume(series.files.map(path => ({ name: path, read: async () => new Uint8Array(await readFile(path)) })), out, { sidecar: false })
  const bytes = new Uint8Array(await readFile(out))
  await rm(out, { force: true })
  return { digest: voxelDigest(bytes), niftiBytes: bytes.length }
}
