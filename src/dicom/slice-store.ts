/**
 * The slice store: one file per DICOM instance under `<dir>/slices/<lfn>/`,
 * written crash-safely. A data set is streamed into `<dir>/tmp/*.part`,
 * flushed (fdatasync), then renamed into place and its folder flushed
 * (fsync), so a reader — or a restart after kill -9 or a power loss — sees
 * either the whole file or nothing; stale `.part` files are removed at start.
 * Folder flushes are shared by the commits waiting for them (group commit).
 */
import { constants as fsConstants } from 'node:fs'
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { SLICE_DIR, TEMP_DIR, TEMP_SUFFIX } from './constants.js'
import { TempFile } from './temp-file.js'

export { TempFile }

export interface SliceStoreInit {
  /** Root folder (the node's scratch/slice-store directory). */
  dir: string
  /** Bytes one instance may occupy; writes beyond it are dropped and the instance fails. */
  maxInstanceBytes: number
  /**
   * Flush each file (fdatasync) before its rename and the folder (fsync)
   * after it, so an acknowledged instance survives a power loss too; without,
   * it survives a crash of the process (the OS keeps the data), not of the
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
    this.maxInstanceBytes = init.maxInstanceBytes
  }

  /** Creates the folders and removes temporary files left by a crash. */
  async init (): Promise<number> {
    await mkdir(this.slicesDir, { recursive: true, mode: 0o700 })
    await mkdir(this.tempDir, { recursive: true, mode: 0o700 })
    const stale = (await readdir(this.tempDir)).filter(f => f.endsWith(TEMP_SUFFIX))
    await Promise.all(stale.map(async f => { await unlink(join(this.tempDir, f)).catch(() => {}) }))
    return stale.length
  }

  /** A new temporary file, with `head` (the File Meta Information) already written. */
  createTemp (head?: Uint8Array): TempFile {
    const temp = new TempFile(this.tempPath(), this.maxInstanceBytes, undefined, this.sync)
    if (head !== undefined) temp.write(head)
    return temp
  }

  /** A temporary copy of a file outside the store (import); copied by the OS, never held in memory. */
  async copyToTemp (source: string): Promise<TempFile> {
    const path = this.tempPath()
    try {
      await copyFile(source, path, fsConstants.COPYFILE_EXCL)
      return new TempFile(path, this.maxInstanceBytes, (await stat(path)).size, this.sync)
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

  private readonly dirSyncs = new Map<string, { running: Promise<void>, next?: Promise<void> }>()

  /**
   * Group commit: a flush of `dir` started after the caller's rename covers
   * it. While one runs, later callers share the one queued after it.
   */
  private async syncDir (dir: string): Promise<void> {
    const state = this.dirSyncs.get(dir)
    if (state === undefined) {
      const running = fsyncDir(dir).finally(() => { this.afterSync(dir) })
      this.dirSyncs.set(dir, { running })
      return await running
    }
    state.next ??= state.running.then(async () => { await fsyncDir(dir) })
    return await state.next
  }

  private afterSync (dir: string): void {
    const state = this.dirSyncs.get(dir)
    if (state?.next === undefined) { this.dirSyncs.delete(dir); return }
    const running = state.next.finally(() => { this.afterSync(dir) })
    this.dirSyncs.set(dir, { running })
  }

  private tempPath (): string {
    return join(this.tempDir, randomBytes(12).toString('hex') + TEMP_SUFFIX)
  }

  /**
   * Moves a finished temporary file to `relPath` (`<lfn>/<key>.dcm`)
   * atomically; resolves when the rename is visible, with the absolute path
   * and a promise of its durability (the folder flush).
   */
  async commit (temp: TempFile, relPath: string): Promise<{ path: string, durable: Promise<void> }> {
    const target = this.absolute(relPath)
    const dir = dirname(target)
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      this.remember(dir)
    }
    await rename(temp.path, target)
    return { path: target, durable: this.sync ? this.syncDir(dir) : Promise.resolve() }
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

  /** Names of the temporary files present (tests, diagnostics). */
  async temps (): Promise<string[]> {
    return (await readdir(this.tempDir).catch(() => [] as string[])).filter(f => f.endsWith(TEMP_SUFFIX))
  }
}

/** fsync of a directory makes a rename in it durable (POSIX); best effort where unsupported. */
async function fsyncDir (dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try { await handle.sync() } finally { await handle.close() }
  } catch {}
}
