/**
 * Slices read while the series is still arriving from the PACS: each one the
 * slice provider announces is read (a small one on the spot; one the fetch
 * held in memory not at all) and its header parsed at once (from the walk
 * that inspected it on arrival, when the fetch kept it), so that assembly's
 * first pass overlaps the retrieval instead of following it; its
 * bytes are kept in memory up to a budget, so that the second pass reads no
 * file again. Anything that goes wrong here is left for assembly to meet
 * and report with its own typed errors (the slice is simply read again).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { parseHeader, type HeaderResult, type SliceSource } from '../assembly/index.js'
import type { DatasetWalk } from '../dicom/part10/index.js'
import type { ArrivedSlice } from './types.js'

interface Early {
  path: string
  bytes?: Uint8Array
  header?: HeaderResult
}

export class EarlySlices {
  private readonly entries = new Map<string, Early>()
  private readonly headers = new WeakMap<SliceSource, HeaderResult>()
  private readonly pending = new Set<Promise<void>>()
  private held = 0
  private closed = false

  constructor (private readonly budgetBytes: number) {}

  /**
   * Reads one slice that just landed (once per name), unless the fetch held
   * its bytes (then it is taken as is, see ArrivedSlice): a slice of at most
   * SYNC_READ_MAX_BYTES at once, from the page cache, where four thread-pool
   * hand-offs (open, stat, read, close) would cost the event loop more than
   * the read itself; a larger one in the thread pool.
   */
  add (file: ArrivedSlice): void {
    if (this.closed || this.entries.has(file.name)) return
    const entry: Early = { path: file.path }
    this.entries.set(file.name, entry)
    if (file.held !== undefined) {
      // Held in memory by the fetch, and walked there: neither read nor walked again.
      this.keep(entry, file.name, file.held.bytes, file.held.walk)
      return
    }
    const small = readSmall(file.path)
    if (small !== undefined) {
      this.keep(entry, file.name, small)
      return
    }
    const work = readFile(file.path).then(buffer => {
      this.keep(entry, file.name, new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength))
    }, () => {})
    const tracked = work.finally(() => { this.pending.delete(tracked) })
    this.pending.add(tracked)
  }

  private keep (entry: Early, name: string, bytes: Uint8Array, walk?: DatasetWalk): void {
    if (this.closed) return
    try {
      entry.header = parseHeader(bytes, name, walk === undefined ? {} : { walk })
    } catch {
      // Pass 1 parses it again and throws its typed error there.
      return
    }
    if (this.held + bytes.byteLength <= this.budgetBytes) {
      entry.bytes = bytes
      this.held += bytes.byteLength
    }
  }

  /** Resolves once every slice announced so far has been read. */
  async settled (): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  /** Bytes held in memory now. */
  get heldBytes (): number {
    return this.held
  }

  /** The files as assembly sources: from memory when held, else read from disk. */
  sources (files: ReadonlyArray<{ name: string, path: string }>): SliceSource[] {
    return files.map(f => {
      const entry = this.entries.get(f.name)
      const same = entry?.path === f.path
      const bytes = same ? entry.bytes : undefined
      const source: SliceSource = { name: f.name, read: async () => bytes ?? new Uint8Array(await readFile(f.path)) }
      if (same && entry.header !== undefined) this.headers.set(source, entry.header)
      return source
    })
  }

  /** The header parsed on arrival of a source made by `sources()`, for `planAssembly`'s `headerOf`. */
  readonly headerOf = (source: SliceSource): HeaderResult | undefined => this.headers.get(source)

  /** Lets go of every slice held. */
  close (): void {
    this.closed = true
    this.entries.clear()
    this.held = 0
  }
}

/** Slices up to this size are read on the spot (see `EarlySlices.add`). */
export const SYNC_READ_MAX_BYTES = 4 * 1024 * 1024

/** The whole file if it is at most SYNC_READ_MAX_BYTES, read now; undefined otherwise or on any error (left to the thread pool, or to assembly). */
function readSmall (path: string): Uint8Array | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const size = fstatSync(fd).size
    if (size > SYNC_READ_MAX_BYTES) return undefined
    const buffer = Buffer.allocUnsafeSlow(size)
    let done = 0
    while (done < size) {
      const n = readSync(fd, buffer, done, size - done, done)
      if (n === 0) return undefined
      done += n
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}
