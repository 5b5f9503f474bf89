/**
 * A data set being written to a temporary file of the slice store. Writes
 * are synchronous and unbuffered (nothing accumulates in memory, however
 * large the instance). With `sync`, the data is flushed (fdatasync) in the
 * background every FLUSH_EVERY bytes while it arrives, so the flush that
 * completes the file before its rename has only the tail left to write.
 */
import { closeSync, fdatasync, openSync, writeSync } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { promisify } from 'node:util'

const fdatasyncAsync = promisify(fdatasync)

/** Bytes between background flushes of a file being received. */
export const FLUSH_EVERY = 256 * 1024

export class TempFile {
  readonly path: string
  private fd: number | undefined
  private bytes = 0
  private unflushed = 0
  private flushing: Promise<void> | undefined
  private failure: Error | undefined

  /** Creates `path` for writing; with `existingSize`, adopts a file already written there. */
  constructor (path: string, private readonly maxBytes: number, existingSize?: number, private readonly sync = true) {
    this.path = path
    if (existingSize === undefined) {
      this.fd = openSync(path, 'wx', 0o600)
    } else {
      this.bytes = existingSize
      if (existingSize > maxBytes) this.failure = new RangeError(`instance larger than ${maxBytes} bytes`)
    }
  }

  get size (): number { return this.bytes }
  /** Why the file cannot be committed (too large, write error), if so. */
  get error (): Error | undefined { return this.failure }

  write (chunk: Uint8Array): void {
    if (this.fd === undefined || this.failure !== undefined) return
    if (this.bytes + chunk.length > this.maxBytes) {
      this.failure = new RangeError(`instance larger than ${this.maxBytes} bytes`)
      return
    }
    try {
      let done = 0
      while (done < chunk.length) done += writeSync(this.fd, chunk, done, chunk.length - done)
      this.bytes += chunk.length
      this.unflushed += chunk.length
    } catch (err) {
      this.failure = err as Error
      return
    }
    if (this.sync && this.unflushed >= FLUSH_EVERY && this.flushing === undefined) {
      this.unflushed = 0
      const fd = this.fd
      this.flushing = fdatasyncAsync(fd).catch(() => {}).finally(() => { this.flushing = undefined })
    }
  }

  /** Flushes to stable storage (with `sync`) and closes; the file stays where it is. */
  async finish (): Promise<void> {
    if (this.fd === undefined) {
      if (!this.sync) return
      const handle = await open(this.path, 'r')
      try { await handle.datasync() } finally { await handle.close() }
      return
    }
    const fd = this.fd
    this.fd = undefined
    try {
      await this.flushing
      if (this.sync) await fdatasyncAsync(fd)
    } finally {
      closeSync(fd)
    }
  }

  /** Closes and deletes the file; never throws. */
  async discard (): Promise<void> {
    if (this.fd !== undefined) {
      const fd = this.fd
      this.fd = undefined
      await this.flushing
      try { closeSync(fd) } catch {}
    }
    await unlink(this.path).catch(() => {})
  }
}
