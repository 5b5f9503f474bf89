/**
 * Writing a source into the store's directory as an in-flight (temp) file,
 * durably: every byte written, `fsync`ed, closed. Never holds a streamed source
 * whole in memory; stops as soon as the byte limit is passed.
 */
import { constants as fsConstants } from 'node:fs'
import { chmod, copyFile, lstat, mkdir, open, rename, rm, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { CacheInputError } from './errors.js'
import type { EntryKind } from './records.js'
import type { ByteSource, DirectoryFile, FileSource } from './types.js'
import { byteLengthOf, joined, type SomeBytes } from '../codec/pieces.js'
import { writePiecesTo } from '../codec/write-pieces.js'

/** The source went over the limit; the caller turns it into its typed error. */
export class OverLimit extends Error {}

/** What a source became: bytes small enough to live in the index, or a temp file. */
export type Spooled =
  | { kind: 'inline', data: Uint8Array }
  | { kind: 'file', size: number, /** Run after the commit: removes a copied-in source file. */ finalize: () => Promise<void>, /** Run on failure with the file's current path: puts a moved-in source back, or deletes the copy. */ undo: (at: string) => Promise<void> }

/** A spooled entry waiting for its commit: where its bytes are now, how to undo and finalize. */
export interface Pending {
  kind: EntryKind
  size: number
  /** Bytes of an inline entry. */
  data?: Uint8Array
  /** Names and sizes of a directory entry's files. */
  files?: Array<[string, number]>
  /** Current path of the temp file or directory (`file`, `dir`). */
  at?: string
  undo: (at: string) => Promise<void>
  finalize: () => Promise<void>
}

/** `spool` as a `Pending` commit. */
export async function spoolEntry (source: ByteSource, tmpPath: string, limit: number, inlineThreshold: number, signal?: AbortSignal): Promise<Pending> {
  const spooled = await spool(source, tmpPath, limit, inlineThreshold, signal)
  if (spooled.kind === 'inline') return { kind: 'inline', size: spooled.data.byteLength, data: spooled.data, undo: nothing, finalize: nothing }
  return { kind: 'file', size: spooled.size, at: tmpPath, undo: spooled.undo, finalize: spooled.finalize }
}

/** Spools every file into a new temp directory `tmpDir`, all or nothing, within `limit` bytes in total. */
export async function spoolDirectory (files: readonly DirectoryFile[], tmpDir: string, limit: number, signal?: AbortSignal): Promise<Pending> {
  await mkdir(tmpDir, { mode: 0o700 })
  const done: Array<{ name: string, spooled: Extract<Spooled, { kind: 'file' }> }> = []
  const undo = async (at: string): Promise<void> => {
    for (const { name, spooled } of done) await spooled.undo(join(at, name)).catch(() => {})
    await rm(at, { recursive: true, force: true })
  }
  let total = 0
  try {
    for (const file of files) {
      const spooled = await spool(file.source, join(tmpDir, file.name), limit - total, -1, signal)
      if (spooled.kind !== 'file') throw new Error('unreachable: inline spool with threshold -1')
      done.push({ name: file.name, spooled })
      total += spooled.size
    }
    await fsyncDirectory(tmpDir)
  } catch (err) {
    await undo(tmpDir)
    throw err
  }
  return {
    kind: 'dir',
    size: total,
    files: done.map(({ name, spooled }) => [name, spooled.size]),
    at: tmpDir,
    undo,
    finalize: async () => { for (const { spooled } of done) await spooled.finalize() }
  }
}

function isFileSource (source: ByteSource): source is FileSource {
  return typeof source === 'object' && source !== null && !(source instanceof Uint8Array) &&
    typeof (source as { path?: unknown }).path === 'string'
}

const nothing = async (): Promise<void> => {}
const removeAt = async (at: string): Promise<void> => { await rm(at, { force: true }) }

/**
 * Spools `source` into `tmpPath` (exclusive create, mode 0600), or returns it
 * inline when it is at most `inlineThreshold` bytes (pass -1 for never). Throws `OverLimit` past
 * `limit` bytes; on any failure no file is left at `tmpPath` and a moved-in
 * source is back where it was.
 */
export async function spool (source: ByteSource, tmpPath: string, limit: number, inlineThreshold: number, signal?: AbortSignal): Promise<Spooled> {
  signal?.throwIfAborted()
  if (isFileSource(source)) return await fileIn(source, tmpPath, limit)
  // Bytes in memory, in one buffer or in pieces (a chunk as it arrived): one gathered write.
  if (source instanceof Uint8Array || (Array.isArray(source) && source.every(p => p instanceof Uint8Array))) {
    const bytes = source as SomeBytes
    const size = byteLengthOf(bytes)
    if (size > limit) throw new OverLimit()
    if (size <= inlineThreshold) return { kind: 'inline', data: joined(bytes) }
    return await newFile(tmpPath, async (handle) => await writePiecesTo(handle, bytes))
  }
  if (typeof source !== 'object' || source === null || (!(Symbol.asyncIterator in source) && !(Symbol.iterator in source))) {
    throw new CacheInputError('source', 'not bytes, an iterable of bytes or a file')
  }
  // Read ahead up to the inline threshold; spill to a file once past it.
  const head: Uint8Array[] = []
  let headBytes = 0
  const iterator = toAsyncIterator(source)
  for (;;) {
    signal?.throwIfAborted()
    const next = await iterator.next()
    if (next.done === true) break
    const chunk = checkChunk(next.value)
    headBytes += chunk.byteLength
    if (headBytes > limit) {
      await iterator.return?.()
      throw new OverLimit()
    }
    head.push(chunk)
    if (headBytes > inlineThreshold) {
      return await streamToFile({ [Symbol.asyncIterator]: () => iterator }, tmpPath, limit, signal, head)
    }
  }
  if (headBytes > inlineThreshold) return await streamToFile([], tmpPath, limit, signal, head)
  return { kind: 'inline', data: joined(head) }
}

/** Makes a rename or unlink in `directory` durable (POSIX: the entry lives in the directory's own data). */
export async function fsyncDirectory (directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function checkChunk (chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) throw new CacheInputError('source', 'yielded something other than a Uint8Array')
  return chunk
}

function toAsyncIterator (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterator<Uint8Array> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]()
  const sync = source[Symbol.iterator]()
  return {
    next: async () => sync.next(),
    return: async () => sync.return?.() ?? { done: true, value: undefined }
  }
}

/** A new file at `tmpPath` (exclusive, 0600) that `write` fills (returning its size), then fsynced; removed if anything fails. */
async function newFile (tmpPath: string, write: (handle: FileHandle) => Promise<number>): Promise<Spooled> {
  const handle = await open(tmpPath, 'wx', 0o600)
  let size: number
  try {
    size = await write(handle)
    await handle.sync()
  } catch (err) {
    await handle.close().catch(() => {})
    await rm(tmpPath, { force: true })
    throw err
  }
  await handle.close()
  return { kind: 'file', size, finalize: nothing, undo: removeAt }
}

async function streamToFile (
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  tmpPath: string,
  limit: number,
  signal: AbortSignal | undefined,
  head: readonly Uint8Array[]
): Promise<Spooled> {
  return await newFile(tmpPath, async (handle) => {
    let size = 0
    const write = async (chunk: Uint8Array): Promise<void> => {
      size += chunk.byteLength
      if (size > limit) throw new OverLimit()
      let at = 0
      while (at < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, at, chunk.byteLength - at)
        at += bytesWritten
      }
    }
    for (const chunk of head) await write(chunk)
    for await (const chunk of source) {
      signal?.throwIfAborted()
      await write(checkChunk(chunk))
    }
    return size
  })
}

/** Moves or copies a regular file to `tmpPath`, then fsyncs it (its writer may not have). */
async function fileIn (source: FileSource, tmpPath: string, limit: number): Promise<Spooled> {
  const stat = await lstat(source.path)
  if (!stat.isFile()) throw new CacheInputError('source', 'not a regular file')
  if (stat.size > limit) throw new OverLimit()
  let moved = false
  let removeSource = false
  if (source.move ?? true) {
    try {
      await rename(source.path, tmpPath)
      moved = true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
      removeSource = true
    }
  }
  const undo = moved
    ? async (at: string) => {
      await chmod(at, stat.mode & 0o7777)
      await rename(at, source.path)
    }
    : removeAt
  try {
    if (!moved) await copyFile(source.path, tmpPath, fsConstants.COPYFILE_EXCL)
    const handle = await open(tmpPath, 'r+')
    try {
      const size = (await handle.stat()).size
      if (size > limit) throw new OverLimit()
      await handle.chmod(0o600)
      await handle.sync()
      return {
        kind: 'file',
        size,
        finalize: removeSource ? async () => { await unlink(source.path) } : nothing,
        undo
      }
    } finally {
      await handle.close()
    }
  } catch (err) {
    await undo(tmpPath).catch(() => {})
    throw err
  }
}
