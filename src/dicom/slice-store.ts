/**
 * The slice store: one file per DICOM instance under `<dir>/slices/<lfn>/`,
 * written crash-safely. A data set is streamed into `<dir>/tmp/*.part`,
 * inspected, renamed into place, and only then acknowledged:
 *
 * - kill -9 at any point: the kernel keeps every completed write and rename,
 *   so a reader after restart sees the whole file or nothing (a `.part` is
 *   removed at start; a renamed file was complete before its rename).
 * - power loss: a durable instance is fsynced once, after its rename and
 *   before it is acknowledged: on Linux journaling file systems (ext4, xfs,
 *   btrfs) the rename changed the inode (ctime), so that fsync writes the
 *   data and commits the journal transaction holding the rename and every
 *   earlier one (the series folder's mkdir included). Most of the data was
 *   flushed while it arrived (fdatasync ahead, see TempFile), so what is
 *   left on the acknowledgement's path is the data's tail and a journal
 *   commit. POSIX alone would also want the folder fsynced; we skip that
 *   flush per instance because the registry record is not what makes an
 *   instance durable, the file is: startup
 *   recovery (Ingestor.recover) rebuilds a missing record from a complete
 *   file and drops a record whose file is missing or short. An instance is
 *   acknowledged only after its fsync, so a record dropped that way was
 *   never acknowledged. Orthanc flushes once per instance too (its SQLite
 *   index) and never its files.
 * - files are not created as instances arrive: the store keeps a reserve of
 *   empty files created ahead while it is idle (RESERVE_FILES), and an
 *   arriving instance opens one; at start, an empty reserve file is kept and
 *   any other is removed like a `.part`.
 * - a cache fill from the hospital PACS (C-GET into the slice store) is not
 *   flushed at all (`durable: false`): the PACS keeps the master copy, and a
 *   copy lost to a power cut is fetched again; recovery drops it (short or
 *   missing file) like any unacknowledged one.
 */
import { close as closeFd, constants as fsConstants, fstatSync, open as openFd, openSync, renameSync } from 'node:fs'
import { copyFile, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { RESERVE_FILES, RESERVE_IDLE_MS, RESERVE_SUFFIX, SLICE_DIR, SPARE_FILES, SYNC_AHEAD_BYTES, TEMP_DIR, TEMP_FOLDERS, TEMP_SUFFIX } from './constants.js'
import { TempFile } from './temp-file.js'

export { TempFile }

export interface SliceStoreInit {
  /** Root folder (the node's scratch/slice-store directory). */
  dir: string
  /** Bytes one instance may occupy; writes beyond it are dropped and the instance fails. */
  maxInstanceBytes: number
  /**
   * fsync each durable instance once, after its rename (see the module doc),
   * so an acknowledged instance survives a power loss too; without, it
   * survives a crash of the process (the OS keeps the data), not of the
   * machine. Default true.
   */
  sync?: boolean
}

export class SliceStore {
  readonly dir: string
  readonly slicesDir: string
  readonly tempDir: string
  private readonly maxInstanceBytes: number
  readonly sync: boolean

  constructor (init: SliceStoreInit) {
    this.sync = init.sync ?? true
    this.dir = resolve(init.dir)
    this.slicesDir = join(this.dir, SLICE_DIR)
    this.tempDir = join(this.dir, TEMP_DIR)
    this.tempFolders = Array.from({ length: TEMP_FOLDERS }, (_, i) => join(this.tempDir, String(i)))
    this.maxInstanceBytes = init.maxInstanceBytes
  }

  /**
   * Creates the folders and removes temporary files left by a crash (returns
   * how many); empty reserve files are kept, and the reserve is topped up in
   * the background.
   */
  async init (): Promise<number> {
    await this.stopReserve()
    await mkdir(this.slicesDir, { recursive: true, mode: 0o700 })
    await mkdir(this.tempDir, { recursive: true, mode: 0o700 })
    for (const folder of this.tempFolders) await mkdir(folder, { recursive: true, mode: 0o700 })
    // The flat temp folder of earlier versions too.
    const stale = (await this.tempFiles([this.tempDir, ...this.tempFolders])).map(f => join(this.tempDir, f))
    await Promise.all(stale.map(async f => { await unlink(f).catch(() => {}) }))
    // A reserve file taken by an instance before a crash has bytes in it: it goes too.
    let dropped = 0
    this.reserve.length = 0
    for (const f of await this.tempFiles(this.tempFolders, RESERVE_SUFFIX)) {
      const path = join(this.tempDir, f)
      const size = await stat(path).then(s => s.size, () => -1)
      if (size === 0) this.reserve.push(path)
      else if (size > 0) { dropped++; await unlink(path).catch(() => {}) }
    }
    this.reserveStopped = false
    this.topUpReserve()
    return stale.length + dropped
  }

  /** The folders temporary files are created in, round robin (see TEMP_FOLDERS). */
  private readonly tempFolders: string[]
  private nextFolder = 0

  /** Files of `folders` ending in `suffix`, relative to the temp folder. */
  private async tempFiles (folders: string[], suffix = TEMP_SUFFIX): Promise<string[]> {
    const out: string[] = []
    for (const folder of folders) {
      for (const f of await readdir(folder).catch(() => [] as string[])) if (f.endsWith(suffix)) out.push(relative(this.tempDir, join(folder, f)))
    }
    return out
  }

  /**
   * A new temporary file, with `head` (the File Meta Information) already
   * written. `durable: false` for one that will be committed without a flush
   * (a cache fill); a durable one flushes ahead while it is written.
   * `holdBytes`: an instance up to that size is also kept in memory (see
   * TempFile), for what reads it right after its ingest.
   */
  createTemp (head?: Uint8Array, options: { durable?: boolean, holdBytes?: number } = {}): TempFile {
    const syncAheadBytes = this.sync && (options.durable ?? true) ? SYNC_AHEAD_BYTES : 0
    const init = { syncAheadBytes, ...(options.holdBytes === undefined ? {} : { holdBytes: options.holdBytes }) }
    this.lastTaken = Date.now()
    // Oldest spare first: its folder is the furthest from the one the next spare is created in.
    const ready = this.takeReserved() ?? this.spares.shift()
    const temp = ready === undefined
      ? new TempFile(this.tempPath(), this.maxInstanceBytes, init)
      : new TempFile(ready.path, this.maxInstanceBytes, { fd: ready.fd, ...init })
    // Spares are created in the thread pool only once the reserve is spent.
    if (this.reserve.length === 0) this.prepareSpare()
    this.topUpReserve()
    if (head !== undefined) temp.write(head)
    return temp
  }

  /**
   * An empty file of the reserve, opened here: a short system call (no inode
   * to allocate), where handing an open to the thread pool costs the event
   * loop 0.2 ms here (the wake-up of a pool thread preempts it on a busy
   * 2-core host).
   */
  private takeReserved (): { path: string, fd: number } | undefined {
    for (let path = this.reserve.shift(); path !== undefined; path = this.reserve.shift()) {
      try {
        return { path, fd: openSync(path, 'r+') }
      } catch {}
    }
    return undefined
  }

  /**
   * Temporary files created ahead, in the thread pool, while instances
   * arrive: creating a file costs about a millisecond of the event loop per
   * instance otherwise (dcmjs-dimse asks for the sink synchronously), and a
   * retrieval runs several associations at once (SPARE_FILES of them kept).
   * Removed by `close()`, or by `init()` after a crash.
   */
  private readonly spares: Array<{ path: string, fd: number }> = []
  /** The spares being created now, by path; each settles once its file is kept or removed. */
  private readonly sparesOpening = new Map<string, Promise<void>>()
  private closed = false

  private prepareSpare (): void {
    while (this.spares.length + this.sparesOpening.size < SPARE_FILES && !this.closed) {
      const path = this.tempPath()
      this.sparesOpening.set(path, new Promise<void>(resolve => {
        openFd(path, 'wx+', 0o600, (err, fd) => {
          this.sparesOpening.delete(path)
          if (err !== null) { resolve(); return }
          if (this.closed) { closeFd(fd, () => { unlink(path).catch(() => {}).finally(resolve) }); return }
          this.spares.push({ path, fd })
          resolve()
        })
      }))
    }
  }

  /**
   * Empty files created ahead, closed (see RESERVE_FILES): taken by
   * `createTemp`, topped up in the background one at a time while no
   * instance arrives, kept on disk when the store closes (an empty one is
   * taken again after a restart).
   */
  private readonly reserve: string[] = []
  private reserving: Promise<void> | undefined
  private reserveStopped = true
  private lastTaken = 0

  private topUpReserve (): void {
    if (this.reserving !== undefined || this.reserveStopped || this.closed || this.reserve.length >= RESERVE_FILES) return
    this.reserving = (async () => {
      while (!this.reserveStopped && !this.closed && this.reserve.length < RESERVE_FILES) {
        // Not while instances arrive: creating files then competes with them.
        const quiet = this.lastTaken + RESERVE_IDLE_MS - Date.now()
        if (quiet > 0) { await sleep(quiet, undefined, { ref: false }); continue }
        const path = this.tempPath(RESERVE_SUFFIX)
        await (await open(path, 'wx', 0o600)).close()
        if (this.reserveStopped || this.closed) { await unlink(path).catch(() => {}); return }
        this.reserve.push(path)
      }
    })().catch(() => {}).finally(() => { this.reserving = undefined })
  }

  /** Stops topping up the reserve (its files stay for the next start). */
  private async stopReserve (): Promise<void> {
    this.reserveStopped = true
    await this.reserving
  }

  /** Empty files in the reserve now (tests, diagnostics). */
  get reserved (): number { return this.reserve.length }

  /** Removes the spare temporary files, those still being created included; the store creates no more of them. */
  async close (): Promise<void> {
    this.closed = true
    await this.stopReserve()
    await Promise.all([...this.sparesOpening.values()])
    await Promise.all(this.spares.splice(0).map(async spare => {
      await new Promise<void>(resolve => { closeFd(spare.fd, () => { resolve() }) })
      await unlink(spare.path).catch(() => {})
    }))
  }

  /** A temporary copy of a file outside the store (import); copied by the OS, never held in memory. */
  async copyToTemp (source: string): Promise<TempFile> {
    const path = this.tempPath()
    try {
      await copyFile(source, path, fsConstants.COPYFILE_EXCL)
      // Opened read-only (a plain descriptor, closed by the TempFile): enough to flush it at commit.
      const fd = await new Promise<number>((resolve, reject) => { openFd(path, 'r', (err, fd) => { if (err === null) resolve(fd); else reject(err) }) })
      let size: number
      try { size = fstatSync(fd).size } catch (err) { closeFd(fd, () => {}); throw err }
      return new TempFile(path, this.maxInstanceBytes, { fd, existingSize: size })
    } catch (err) {
      await unlink(path).catch(() => {})
      throw err
    }
  }

  /** Every stored instance, as paths relative to the store (`<lfn>/<key>.dcm`). */
  async list (): Promise<string[]> {
    const out: string[] = []
    for (const lfn of await readdir(this.slicesDir).catch(() => [] as string[])) {
      for (const f of await readdir(join(this.slicesDir, lfn)).catch(() => [] as string[])) {
        if (f.endsWith('.dcm')) out.push(`${lfn}/${f}`)
      }
    }
    return out
  }

  /** Folders known to exist (one per series), so a commit costs no mkdir. */
  private readonly dirs = new Set<string>()

  private remember (dir: string): void {
    if (this.dirs.size >= 10_000) this.dirs.clear()
    this.dirs.add(dir)
  }

  private tempPath (suffix = TEMP_SUFFIX): string {
    const folder = this.tempFolders[this.nextFolder] as string
    this.nextFolder = (this.nextFolder + 1) % this.tempFolders.length
    return join(folder, randomBytes(12).toString('hex') + suffix)
  }

  /**
   * Moves a finished temporary file to `relPath` (`<lfn>/<key>.dcm`)
   * atomically; resolves when the rename is visible, with the absolute path
   * and a promise of its durability. Durable (the default, in a store opened
   * with `sync`): one fsync of the renamed file (its data mostly flushed
   * ahead, while it arrived), then it is closed. Otherwise nothing is flushed.
   */
  async commit (temp: TempFile, relPath: string, options: { durable?: boolean } = {}): Promise<{ path: string, durable: Promise<void> }> {
    const flush = this.sync && (options.durable ?? true)
    if (temp.error !== undefined) throw temp.error
    if (!flush) await temp.close()
    const target = this.absolute(relPath)
    const dir = dirname(target)
    if (!this.dirs.has(dir)) {
      // A new series folder: flushed once (with its parent) so the name of
      // every file later renamed into it has a durable path (POSIX fsync).
      const created = await mkdir(dir, { recursive: true, mode: 0o700 })
      if (created !== undefined && this.sync) await fsyncPath(this.slicesDir)
      this.remember(dir)
    }
    // Synchronous: a rename is a short metadata update, and a thread-pool round
    // trip on the acknowledgement's path cost more (0.3-1 ms per instance
    // measured on a loaded 2-core host) than it saves the event loop.
    renameSync(temp.path, target)
    return { path: target, durable: flush ? temp.syncAndClose() : Promise.resolve() }
  }

  /** Absolute path of a stored instance; refuses paths that leave the store. */
  absolute (relPath: string): string {
    const abs = resolve(this.slicesDir, relPath)
    if (!abs.startsWith(this.slicesDir + sep)) throw new RangeError('path outside the slice store')
    return abs
  }

  relative (absPath: string): string {
    return relative(this.slicesDir, absPath)
  }

  async remove (relPath: string): Promise<void> {
    await rm(this.absolute(relPath), { force: true })
    this.dirs.delete(dirname(this.absolute(relPath)))
  }

  /**
   * Names of the temporary files present, the spares aside (tests,
   * diagnostics): `.part` files, and reserve files holding bytes (an empty
   * one is the reserve, whichever store instance looks).
   */
  async temps (): Promise<string[]> {
    const spares = new Set([...this.spares.map(s => s.path), ...this.sparesOpening.keys()].map(p => relative(this.tempDir, p)))
    const written: string[] = []
    for (const f of await this.tempFiles(this.tempFolders, RESERVE_SUFFIX)) {
      if (await stat(join(this.tempDir, f)).then(s => s.size > 0, () => false)) written.push(f)
    }
    return [...await this.tempFiles([this.tempDir, ...this.tempFolders]), ...written].filter(f => !spares.has(f))
  }
}

/** fsync of a file (after its rename, see the module doc) or of a folder (after a mkdir). */
async function fsyncPath (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try { await handle.sync() } finally { await handle.close() }
}
