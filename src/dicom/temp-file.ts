/**
 * A data set being written to a temporary file of the slice store. Writes
 * are synchronous and unbuffered (nothing accumulates in memory, however
 * large the instance). Nothing is flushed here: the one flush an instance
 * costs (if any) is an fsync of the file after its rename into the store
 * (see SliceStore.commit for why that single flush suffices).
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { unlink } from 'node:fs/promises'

export class TempFile {
  readonly path: string
  private fd: number | undefined
  private bytes = 0
  private failure: Error | undefined

  /**
   * Creates `path` for writing; with `existingSize`, adopts a file already
   * written there; with `fd`, an empty file already open for writing.
   */
  constructor (path: string, private readonly maxBytes: number, existingSize?: number, fd?: number) {
    this.path = path
    if (fd !== undefined) {
      this.fd = fd
    } else if (existingSize === undefined) {
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
    } catch (err) {
      this.failure = err as Error
    }
  }

  /** Closes the file (no flush); it stays where it is. */
  finish (): void {
    if (this.fd === undefined) return
    const fd = this.fd
    this.fd = undefined
    closeSync(fd)
  }

  /** Closes and deletes the file; never throws. */
  async discard (): Promise<void> {
    if (this.fd !== undefined) {
      const fd = this.fd
      this.fd = undefined
      try { closeSync(fd) } catch {}
    }
    await unlink(this.path).catch(() => {})
  }
}
