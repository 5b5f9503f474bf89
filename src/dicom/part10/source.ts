/**
 * Random access to the bytes of a DICOM file without holding it in memory:
 * the parser asks for small windows (element headers, short values) and
 * skips large values (pixel data) by offset.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { InvalidDicomError } from '../errors.js'

export interface ByteSource {
  readonly size: number
  /** Exactly `length` bytes at `offset`; the view is valid until the next call. */
  bytes: (offset: number, length: number) => Uint8Array
}

function outOfRange (offset: number, length: number, size: number): InvalidDicomError {
  return new InvalidDicomError(`truncated: needs bytes ${offset}..${offset + length} of ${size}`)
}

/** A source over bytes already in memory (tests, deflated data sets, small files). */
export class BufferSource implements ByteSource {
  readonly size: number
  private readonly buf: Uint8Array

  constructor (buf: Uint8Array) {
    this.buf = buf
    this.size = buf.length
  }

  bytes (offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) throw outOfRange(offset, length, this.size)
    return this.buf.subarray(offset, offset + length)
  }
}

/**
 * A source over an open file, read through one window. Reads are synchronous:
 * the parser runs in short bursts on small header windows from the page cache,
 * and a synchronous walk keeps the parser a plain, testable function.
 */
export class FileSource implements ByteSource {
  readonly size: number
  private readonly fd: number
  private readonly maxWindow: number
  private window: Buffer
  private winStart = 0
  private winLength = 0

  /**
   * The window starts small (a header is a few KiB; reading 256 KiB of the
   * pixel data behind it cost more than parsing the header) and grows
   * fourfold, up to `maxWindowBytes`, while reads continue where it ended.
   */
  /** `size`: the file's size when the caller knows it (saves an fstat). */
  constructor (fd: number, maxWindowBytes = 256 * 1024, size?: number) {
    this.fd = fd
    this.size = size ?? fstatSync(fd).size
    this.maxWindow = maxWindowBytes
    this.window = Buffer.allocUnsafe(Math.min(16 * 1024, maxWindowBytes))
  }

  bytes (offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) throw outOfRange(offset, length, this.size)
    if (offset >= this.winStart && offset + length <= this.winStart + this.winLength) {
      return this.window.subarray(offset - this.winStart, offset - this.winStart + length)
    }
    if (length > this.maxWindow) {
      const out = Buffer.allocUnsafe(length)
      this.readFully(out, offset)
      return out
    }
    const sequential = this.winLength > 0 && offset >= this.winStart && offset <= this.winStart + this.winLength + this.window.length
    if ((sequential || length > this.window.length) && this.window.length < this.maxWindow) {
      this.window = Buffer.allocUnsafe(Math.min(this.maxWindow, Math.max(this.window.length * 4, length)))
    }
    this.winStart = offset
    this.winLength = Math.min(this.window.length, this.size - offset)
    this.readFully(this.window.subarray(0, this.winLength), offset)
    return this.window.subarray(0, length)
  }

  private readFully (into: Buffer, offset: number): void {
    let done = 0
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, offset + done)
      if (n === 0) throw outOfRange(offset, into.length, this.size)
      done += n
    }
  }
}

/** Runs `fn` with a `FileSource` over `path`, closing the file afterwards. */
export function withFileSource<T> (path: string, fn: (src: FileSource) => T): T {
  const fd = openSync(path, 'r')
  try {
    return fn(new FileSource(fd))
  } finally {
    closeSync(fd)
  }
}
