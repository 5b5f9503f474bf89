/**
 * A data set being written to a temporary file of the slice store. Writes
 * are synchronous and unbuffered (nothing accumulates in memory, however
 * large the instance), unless the file is also to be `held`: then what is
 * written is kept in memory too, up to `holdBytes` (see `held()`).
 *
 * Flush ahead: a file that will be acknowledged as durable flushes its data
 * while it is still arriving (`syncAheadBytes`): an fdatasync runs in the
 * thread pool whenever that many bytes are unflushed and none is running.
 * A DIMSE peer sends the next instance only after our reply (storescu
 * negotiates no asynchronous operations window, PS3.7 §D.3.3.3), so the
 * flush of an instance is on its critical path; started during the
 * transfer, most of it overlaps the network, and the one fsync after the
 * rename (SliceStore.commit) is left with the data's tail and a journal
 * commit. Measured on ext4: 0.5 MiB instance, fsync after rename 1.2 ms
 * from cold, 0.3 ms once the data is flushed.
 */
import { closeSync, fdatasync, fsync, openSync, writeSync } from 'node:fs'
import { unlink } from 'node:fs/promises'

export interface TempFileInit {
  /** The file is already open (for reading and writing, or read-only with `existingSize`). */
  fd?: number
  /** Adopt a file already written at the path (an import): its size, nothing more is written. */
  existingSize?: number
  /** Start an fdatasync each time this many bytes are unflushed (0 or absent: never during writes). */
  syncAheadBytes?: number
  /**
   * Also keep what is written in memory while the file has at most this many
   * bytes (0 or absent: never): the views written are kept, not copied, so
   * the writer must not reuse their memory.
   */
  holdBytes?: number
}

export class TempFile {
  readonly path: string
  private fd: number | undefined
  private bytes = 0
  /** Bytes known on stable storage (the last fdatasync started after they were written). */
  private synced = 0
  /** The fdatasync running ahead, if any (one at a time). */
  private flushing: Promise<void> | undefined
  private failure: Error | undefined
  private readonly syncAheadBytes: number
  /** An adopted file (an import) takes no writes. */
  private adopted = false
  private readonly holdBytes: number
  /** What was written, while held (undefined once the file grew past holdBytes). */
  private pieces: Uint8Array[] | undefined

  constructor (path: string, private readonly maxBytes: number, init: TempFileInit = {}) {
    this.path = path
    this.syncAheadBytes = init.syncAheadBytes ?? 0
    this.holdBytes = init.holdBytes ?? 0
    if (this.holdBytes > 0 && init.existingSize === undefined) this.pieces = []
    this.fd = init.fd ?? (init.existingSize === undefined ? openSync(path, 'wx+', 0o600) : undefined)
    if (init.existingSize !== undefined) {
      this.bytes = init.existingSize
      this.adopted = true
      if (init.existingSize > maxBytes) this.failure = new RangeError(`instance larger than ${maxBytes} bytes`)
    }
  }

  get size (): number { return this.bytes }
  /** The open descriptor, readable (created `wx+`, or an import opened `r`), until the file is closed. */
  get descriptor (): number | undefined { return this.fd }
  /** Why the file cannot be committed (too large, write or flush error), if so. */
  get error (): Error | undefined { return this.failure }

  write (chunk: Uint8Array): void {
    if (this.fd === undefined || this.adopted || this.failure !== undefined) return
    if (this.bytes + chunk.length > this.maxBytes) {
      this.failure = new RangeError(`instance larger than ${this.maxBytes} bytes`)
      return
    }
    try {
      let done = 0
      while (done < chunk.length) done += writeSync(this.fd, chunk, done, chunk.length - done)
      this.bytes += chunk.length
      if (this.pieces !== undefined) {
        if (this.bytes <= this.holdBytes) this.pieces.push(chunk)
        else this.pieces = undefined
      }
    } catch (err) {
      this.failure = err as Error
      return
    }
    if (this.syncAheadBytes > 0 && this.flushing === undefined && this.bytes - this.synced >= this.syncAheadBytes) this.startFlush()
  }

  /**
   * The file's whole content as written, from memory: only for a file held
   * (`holdBytes`) that stayed within it and had no write error; undefined
   * otherwise. Joined once; later writes are not in it.
   */
  held (): Uint8Array | undefined {
    if (this.pieces === undefined || this.failure !== undefined) return undefined
    if (this.pieces.length !== 1) this.pieces = [Buffer.concat(this.pieces, this.bytes)]
    return this.pieces[0]
  }

  /** One fdatasync of what is written now, in the thread pool. */
  private startFlush (): void {
    const fd = this.fd
    if (fd === undefined) return
    const upTo = this.bytes
    this.flushing = new Promise<void>(resolve => {
      fdatasync(fd, err => {
        if (err !== null) this.failure ??= err
        else this.synced = upTo
        this.flushing = undefined
        resolve()
      })
    })
  }

  private async settled (): Promise<void> {
    while (this.flushing !== undefined) await this.flushing
  }

  /**
   * fsync (data and inode) then close. After a rename the inode's change
   * commits the journal transaction holding the rename (see SliceStore).
   */
  async syncAndClose (): Promise<void> {
    const fd = this.fd
    if (fd === undefined) throw new Error('temporary file already closed')
    this.fd = undefined
    const synced = new Promise<NodeJS.ErrnoException | null>(resolve => { fsync(fd, resolve) })
    // The fsync waits for any writeback still running ahead; the descriptor
    // is closed only once no flush uses it.
    const [err] = await Promise.all([synced, this.settled()])
    // Nothing left to write back: closing is a short system call, not worth the thread pool.
    try { closeSync(fd) } catch {}
    if (err !== null) throw err
    if (this.failure !== undefined) throw this.failure
  }

  /** Closes the file (no flush; waits for one running); it stays where it is. */
  async close (): Promise<void> {
    await this.settled()
    const fd = this.fd
    if (fd === undefined) return
    this.fd = undefined
    closeSync(fd)
  }

  /** Closes and deletes the file; never throws. */
  async discard (): Promise<void> {
    await this.settled()
    if (this.fd !== undefined) {
      const fd = this.fd
      this.fd = undefined
      try { closeSync(fd) } catch {}
    }
    await unlink(this.path).catch(() => {})
  }
}
