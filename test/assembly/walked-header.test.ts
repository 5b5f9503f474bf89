/**
 * The walker's header (walked-header.ts) against dcmjs's, on every real
 * sample and on synthetic CT and MR series: whatever assembly and the
 * sidecar read from a header must come out the same from both readers, and
 * objects the walker must not take (multi-frame, functional groups,
 * big-endian, deflated, malformed) must go to dcmjs. A header taken from
 * the walk ingest made of the same bytes is the one a second walk gives.
 */
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { objectInfo } from '../../src/assembly/header.js'
import { parseHeader, type HeaderResult } from '../../src/assembly/object.js'
import { SIDECAR_KEYWORDS } from '../../src/assembly/sidecar.js'
import { inspectBytes, type DatasetWalk } from '../../src/dicom/part10/index.js'
import { writeSeries } from '../../src/synthetic/index.js'
import { tempDir } from '../helpers/tmp.js'

const SAMPLES = fileURLToPath(new URL('../../../shared/dicom-samples/', import.meta.url))

async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await filesUnder(p))
    else if (!/\.(md|txt)$|SHA256SUMS/.test(e.name)) out.push(p)
  }
  return out
}

/** The ds behind a proxy that records every key read. */
function recording (ds: Record<string, unknown>, keys: Set<string>): Record<string, unknown> {
  return new Proxy(ds, { get: (t, k) => { if (typeof k !== 'string') return undefined; keys.add(k); return t[k] } })
}

function outcome (f: () => HeaderResult): HeaderResult | { kind: 'error', name: string } {
  try { return f() } catch (err) { return { kind: 'error', name: (err as Error).name } }
}

describe('the walker\'s header against dcmjs\'s', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const files: string[] = []
  beforeAll(async () => {
    dir = await tempDir('dm2-walked-')
    files.push(...await filesUnder(SAMPLES))
    const series: Array<Parameters<typeof writeSeries>[1]> = [
      { modality: 'CT', rows: 16, columns: 12, slices: 3, seed: 'ct' },
      { modality: 'MR', rows: 8, columns: 10, slices: 3, seed: 'mr', orientation: 'oblique' },
      { modality: 'MR', rows: 8, columns: 8, slices: 2, seed: 'sag', orientation: 'sagittal', spacingBetweenSlices: 7.5 },
      { modality: 'CT', rows: 8, columns: 8, slices: 2, seed: 'tilt', orientation: { degrees: [12, -7, 3] }, signed: false, bitsStored: 12 }
    ]
    for (const [i, options] of series.entries()) {
      const folder = join(dir.path, `s${i}`)
      const s = await writeSeries(folder, options)
      files.push(...s.files.map(f => join(folder, f.name)))
    }
  })
  afterAll(async () => { await dir.remove() })

  it('agrees on every key assembly and the sidecar read, and takes only plain single-frame images', async () => {
    let walked = 0
    let images = 0
    for (const path of files) {
      const bytes = new Uint8Array(await readFile(path))
      const auto = outcome(() => parseHeader(bytes, path))
      const ref = outcome(() => parseHeader(bytes, path, { reader: 'dcmjs' }))
      if (ref.kind !== 'image') {
        // Not an image for dcmjs (skipped, or an error): the same answer either way.
        expect({ path, kind: auto.kind, name: (auto as { name?: string }).name }).toEqual({ path, kind: ref.kind, name: (ref as { name?: string }).name })
        continue
      }
      images++
      expect(auto.kind, path).toBe('image')
      if (auto.kind !== 'image' || auto.reader !== 'walker') continue
      walked++
      expect(auto.transferSyntaxUID).toBe(ref.transferSyntaxUID)
      expect(auto.encoding).toEqual(ref.encoding)
      const read = new Set<string>(SIDECAR_KEYWORDS)
      const mine = outcome(() => ({ kind: 'skipped', reason: JSON.stringify(objectInfo(recording(auto.ds, read), auto.transferSyntaxUID, 0, path)) }))
      const theirs = outcome(() => ({ kind: 'skipped', reason: JSON.stringify(objectInfo(recording(ref.ds, read), ref.transferSyntaxUID, 0, path)) }))
      expect(mine, path).toEqual(theirs)
      for (const key of read) expect({ path, key, value: auto.ds[key] }).toEqual({ path, key, value: ref.ds[key] })
    }
    // Every synthetic slice and the real single-frame samples go through the walker.
    expect(images).toBeGreaterThan(20)
    expect(walked).toBeGreaterThanOrEqual(files.filter(f => f.startsWith(dir.path)).length)
  })

  it('leaves multi-frame objects and functional groups to dcmjs', async () => {
    const multi = (await filesUnder(join(SAMPLES, 'multiframe')))
    expect(multi.length).toBeGreaterThan(0)
    for (const path of multi) {
      const h = outcome(() => parseHeader(new Uint8Array(readFileSyncBytes(path)), path))
      if (h.kind === 'image') expect({ path, reader: h.reader }).toEqual({ path, reader: 'dcmjs' })
    }
  })
})

describe('the header from ingest\'s walk (an instance held in memory on arrival)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const files: string[] = []
  beforeAll(async () => {
    dir = await tempDir('dm2-walk-reuse-')
    files.push(...await filesUnder(SAMPLES))
    const folder = join(dir.path, 'ct')
    const s = await writeSeries(folder, { modality: 'CT', rows: 16, columns: 12, slices: 3, seed: 'reuse' })
    files.push(...s.files.map(f => join(folder, f.name)))
  })
  afterAll(async () => { await dir.remove() })

  it('is the header a second walk gives, for every sample ingest accepts; the walk\'s attributes stay as they were', async () => {
    let reused = 0
    for (const path of files) {
      const bytes = new Uint8Array(await readFile(path))
      let walk: DatasetWalk | undefined
      try {
        walk = inspectBytes(bytes).walk
      } catch {
        continue // refused at ingest: never handed on
      }
      if (walk === undefined) continue
      const before = structuredClone(walk.attributes)
      const fromWalk = outcome(() => parseHeader(bytes, path, { walk }))
      const again = outcome(() => parseHeader(bytes, path))
      expect(fromWalk, path).toEqual(again)
      expect(walk.attributes, path).toEqual(before)
      if (fromWalk.kind === 'image' && fromWalk.reader === 'walker') reused++
    }
    expect(reused).toBeGreaterThanOrEqual(3)
  })

  it('is not used for other bytes than those walked (another transfer syntax)', async () => {
    const path = files.find(f => f.startsWith(dir.path)) as string
    const bytes = new Uint8Array(await readFile(path))
    const walk = inspectBytes(bytes).walk as DatasetWalk
    const h = parseHeader(bytes, path, { walk: { ...walk, transferSyntaxUid: '1.2.840.10008.1.2' } })
    expect(h).toEqual(parseHeader(bytes, path))
  })
})

function readFileSyncBytes (path: string): Buffer {
  return readFileSync(path)
}
