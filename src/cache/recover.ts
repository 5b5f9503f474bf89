/**
 * What `open()` does after a crash, or after a clean stop: make the index and
 * the scratch directory agree again.
 *
 * - a record whose file (or inline bytes) is missing or has the wrong size is dropped;
 * - an expired record is dropped;
 * - a file or directory no record names (an in-flight `.tmp-*` file, an entry
 *   renamed into place whose index write never happened, an evicted entry
 *   whose unlink never happened) is deleted;
 * - the LRU order is rebuilt from the persisted last-access sequence numbers.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { STORE_MARKER_FILE } from './constants.js'
import { CacheDirectoryError } from './errors.js'
import { parseRecord, type EntryRecord } from './records.js'
import { commitBatch, type StoreTables } from './tables.js'

export interface Recovered {
  /** Kept records, least recently used first, with their sequence numbers. */
  records: Array<{ key: string, record: EntryRecord, seq: number }>
  /** Highest sequence number seen: the logical clock resumes after it. */
  clock: number
  dropped: number
  expired: number
  swept: number
}

/** Creates the directory (0700) or checks it is a cache store's; returns its listing. */
async function prepareDirectory (directory: string): Promise<Map<string, boolean>> {
  const listing = new Map<string, boolean>()
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 })
    for (const item of await readdir(directory, { withFileTypes: true })) listing.set(item.name, item.isDirectory())
  } catch (err) {
    throw new CacheDirectoryError(directory, `cannot be created or listed (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  if (!listing.has(STORE_MARKER_FILE)) {
    // Never sweep a directory we did not create: it could be anyone's files.
    if (listing.size > 0) throw new CacheDirectoryError(directory, 'is not empty and holds no cache marker')
    await writeFile(join(directory, STORE_MARKER_FILE), 'dm2 cache store: files here are swept at open\n', { mode: 0o600 })
  }
  listing.delete(STORE_MARKER_FILE)
  return listing
}

async function sizeOf (path: string, isDir: boolean): Promise<number | undefined> {
  try {
    const s = await stat(path)
    return s.isDirectory() === isDir ? s.size : undefined
  } catch {
    return undefined
  }
}

/** Whether the entry's bytes are all there, with the recorded sizes. */
async function intact (directory: string, listing: ReadonlyMap<string, boolean>, record: EntryRecord, blobSize: number | undefined): Promise<boolean> {
  if (record.kind === 'inline') return blobSize === record.size
  const name = record.name ?? ''
  const isDir = listing.get(name)
  if (isDir === undefined || isDir !== (record.kind === 'dir')) return false
  const path = join(directory, name)
  if (record.kind === 'file') return await sizeOf(path, false) === record.size
  for (const [file, size] of record.files ?? []) {
    if (await sizeOf(join(path, file), false) !== size) return false
  }
  return true
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export async function recover (directory: string, tables: StoreTables, now: number): Promise<Recovered> {
  const listing = await prepareDirectory(directory)
  const seqs = new Map<string, number>()
  // Read as text and parsed here, so one corrupt value is dropped instead of failing the open.
  for await (const [key, text] of tables.atime.iterator<string, string>({ valueEncoding: 'utf8' })) {
    const seq = Number(text)
    seqs.set(key, Number.isSafeInteger(seq) ? seq : 0)
  }
  const blobSizes = new Map<string, number>()
  for await (const [key, blob] of tables.blobs.iterator()) blobSizes.set(key, blob.byteLength)

  const kept: Recovered['records'] = []
  const dels: string[] = []
  const referenced = new Set<string>()
  let expired = 0
  for await (const [key, text] of tables.entries.iterator<string, string>({ valueEncoding: 'utf8' })) {
    const record = parseRecord(parseJson(text))
    if (record !== undefined && record.expires !== undefined && record.expires <= now) {
      expired++
      dels.push(key)
    } else if (record !== undefined && await intact(directory, listing, record, blobSizes.get(key))) {
      kept.push({ key, record, seq: seqs.get(key) ?? 0 })
      if (record.name !== undefined) referenced.add(record.name)
    } else {
      dels.push(key)
    }
  }
  const known = new Set([...kept.map(k => k.key), ...dels])
  const dangling = [...new Set([...seqs.keys(), ...blobSizes.keys()])].filter(k => !known.has(k))
  if (dels.length + dangling.length > 0) await commitBatch(tables, [], [...dels, ...dangling])

  let swept = 0
  for (const name of listing.keys()) {
    if (referenced.has(name)) continue
    await rm(join(directory, name), { recursive: true, force: true })
    swept++
  }
  kept.sort((a, b) => a.seq - b.seq)
  const clock = kept.reduce((max, k) => Math.max(max, k.seq), 0)
  return { records: kept, clock, dropped: dels.length - expired, expired, swept }
}
