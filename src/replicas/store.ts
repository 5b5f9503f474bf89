/**
 * Replicas this site holds for other sites: sealed chunk files and the
 * master's signed manifest, ciphertext only (a replica site never sees a data
 * key), one folder per content id. Chunks arrive in `.staging/<cid>/` (each
 * written to a temp file then renamed, so a restarted replication resumes
 * with what it has); a commit renames the folder into place and only then
 * indexes it in LevelDB (`c:<cid>` → lfn, version, master; `m:<cid>` → signed
 * manifest; `l:<lfn>` → cid). One version per LFN: committing a newer version
 * drops the older one. Implements the chunk protocol's ChunkStore.
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Manifest } from '../privacy/payload/index.js'
import type { ChunkSink, ChunkStore } from '../protocols/chunks/types.js'
import { decodeCanonical, encodeCanonical, isMap } from '../sac/cbor.js'
import { MANIFEST_FILE, STAGING_DIR } from './constants.js'
import { ReplicaStoreError } from './errors.js'
import { writeFilePieces } from '../codec/write-pieces.js'

export type ReplicaDbOp = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

/** The LevelDB sublevel the store indexes into (a `Level` sublevel with `valueEncoding: 'view'`). */
export interface ReplicaDb {
  get: (key: string) => Promise<Uint8Array | undefined>
  batch: (ops: ReplicaDbOp[], options?: { sync?: boolean }) => Promise<void>
  iterator: () => AsyncIterable<[string, Uint8Array]>
}

export interface ReplicaEntry {
  lfn: string
  version: number
  master: string
  contentId: string
}

const MAX_ENTRY_BYTES = 1024
const MAX_SIGNED_MANIFEST_BYTES = 2 * 1024 * 1024

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export class ReplicaStore implements ChunkStore {
  private readonly dir: string
  private readonly db: ReplicaDb
  private readonly byCid = new Map<string, ReplicaEntry>()
  private readonly byLfn = new Map<string, string>()

  private constructor (dir: string, db: ReplicaDb) {
    this.dir = dir
    this.db = db
  }

  /** Opens the store: loads the index and removes folders a crash left unindexed (staging is kept: it resumes). */
  static async open (dir: string, db: ReplicaDb): Promise<ReplicaStore> {
    const store = new ReplicaStore(dir, db)
    await mkdir(join(dir, STAGING_DIR), { recursive: true })
    for await (const [key, value] of db.iterator()) {
      if (!key.startsWith('c:')) continue
      const v = decodeCanonical(value, MAX_ENTRY_BYTES)
      if (!isMap(v) || typeof v.lfn !== 'string' || typeof v.version !== 'number' || typeof v.master !== 'string') continue
      const entry = { lfn: v.lfn, version: v.version, master: v.master, contentId: key.slice(2) }
      store.byCid.set(entry.contentId, entry)
      store.byLfn.set(entry.lfn, entry.contentId)
    }
    for (const name of await readdir(dir)) {
      if (name !== STAGING_DIR && !store.byCid.has(name)) await rm(join(dir, name), { recursive: true, force: true })
    }
    return store
  }

  list (): ReplicaEntry[] { return [...this.byCid.values()] }
  entryOf (contentId: Uint8Array): ReplicaEntry | undefined { return this.byCid.get(hex(contentId)) }
  entryByLfn (lfn: string): ReplicaEntry | undefined {
    const cid = this.byLfn.get(lfn)
    return cid === undefined ? undefined : this.byCid.get(cid)
  }

  async signedManifest (contentId: Uint8Array): Promise<Uint8Array | undefined> {
    const bytes = this.byCid.has(hex(contentId)) ? await this.db.get(`m:${hex(contentId)}`) : undefined
    return bytes === undefined ? undefined : new Uint8Array(bytes)
  }

  has = async (contentId: Uint8Array): Promise<boolean> => this.byCid.has(hex(contentId))

  read = async (contentId: Uint8Array, index: number): Promise<Uint8Array | undefined> => {
    const cid = hex(contentId)
    if (!this.byCid.has(cid) || !Number.isSafeInteger(index) || index < 0) return undefined
    try {
      return new Uint8Array(await readFile(join(this.dir, cid, String(index))))
    } catch {
      return undefined
    }
  }

  /** Where a replication writes its chunks before the commit; chunks already staged are not fetched again. */
  async sink (contentId: Uint8Array): Promise<ChunkSink> {
    const staging = join(this.dir, STAGING_DIR, hex(contentId))
    await mkdir(staging, { recursive: true })
    return {
      has: async (index) => await stat(join(staging, String(index))).then(() => true, () => false),
      put: async (index, bytes) => {
        const tmp = join(staging, `${index}.tmp`)
        await writeFilePieces(tmp, bytes)
        await rename(tmp, join(staging, String(index)))
      }
    }
  }

  /**
   * Makes a staged replica live: checks every chunk is there with its size,
   * writes the signed manifest, renames into place, indexes it, then drops
   * any older version of the same LFN. Throws ReplicaStoreError.
   */
  async commit (manifest: Manifest, signedManifest: Uint8Array): Promise<ReplicaEntry> {
    if (signedManifest.byteLength > MAX_SIGNED_MANIFEST_BYTES) throw new ReplicaStoreError('signed manifest too large')
    const cid = hex(manifest.merkleRoot)
    const lfn = manifest.fileId
    const previous = this.entryByLfn(lfn)
    if (previous !== undefined && previous.version > manifest.version) throw new ReplicaStoreError(`holds a newer version of ${lfn}`)
    const entry: ReplicaEntry = { lfn, version: manifest.version, master: manifest.master, contentId: cid }
    const staging = join(this.dir, STAGING_DIR, cid)
    const final = join(this.dir, cid)
    if (!this.byCid.has(cid)) {
      for (const [i, c] of manifest.chunks.entries()) {
        const size = await stat(join(staging, String(i))).then(s => s.size, () => -1)
        if (size !== c.size) throw new ReplicaStoreError(`chunk ${i} of ${lfn} missing or of the wrong size`)
      }
      await writeFile(join(staging, MANIFEST_FILE), signedManifest)
      await rm(final, { recursive: true, force: true })
      await rename(staging, final)
    }
    const ops: ReplicaDbOp[] = [
      { type: 'put', key: `c:${cid}`, value: encodeCanonical({ lfn, version: entry.version, master: entry.master }, MAX_ENTRY_BYTES) },
      { type: 'put', key: `m:${cid}`, value: signedManifest },
      { type: 'put', key: `l:${lfn}`, value: new TextEncoder().encode(cid) }
    ]
    if (previous !== undefined && previous.contentId !== cid) ops.push({ type: 'del', key: `c:${previous.contentId}` }, { type: 'del', key: `m:${previous.contentId}` })
    await this.db.batch(ops, { sync: true })
    this.byCid.set(cid, entry)
    this.byLfn.set(lfn, cid)
    if (previous !== undefined && previous.contentId !== cid) {
      this.byCid.delete(previous.contentId)
      await rm(join(this.dir, previous.contentId), { recursive: true, force: true })
    }
    return entry
  }

  /** Drops the replica of an LFN (a newer master version or an expired record): index first, then the files. */
  async drop (lfn: string): Promise<ReplicaEntry | undefined> {
    const entry = this.entryByLfn(lfn)
    if (entry === undefined) return undefined
    await this.db.batch([{ type: 'del', key: `c:${entry.contentId}` }, { type: 'del', key: `m:${entry.contentId}` }, { type: 'del', key: `l:${lfn}` }], { sync: true })
    this.byCid.delete(entry.contentId)
    this.byLfn.delete(lfn)
    await rm(join(this.dir, entry.contentId), { recursive: true, force: true })
    return entry
  }

  /** Removes a staged (never committed) replication. */
  async discardStaging (contentId: Uint8Array): Promise<void> {
    await rm(join(this.dir, STAGING_DIR, hex(contentId)), { recursive: true, force: true })
  }
}
