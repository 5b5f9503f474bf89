/**
 * Reading an entry whole or as a stream, on top of a store's leases. A stream's
 * file is opened before the lease is released: on POSIX an open descriptor
 * keeps the bytes readable even if the entry is evicted a moment later.
 */
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { CacheEntryKindError } from './errors.js'
import type { CacheLease } from './types.js'

/** The whole value of an inline or file entry. */
export async function readLease (store: string, lease: CacheLease): Promise<Uint8Array> {
  try {
    if (lease.kind === 'inline') return lease.data
    if (lease.kind === 'dir') throw new CacheEntryKindError(store, 'file', 'dir')
    return new Uint8Array(await readFile(lease.path))
  } finally {
    lease.release()
  }
}

/** A stream of the entry (of `file` inside a directory entry); `undefined` if the directory has no such file. */
export async function streamLease (store: string, lease: CacheLease, file?: string): Promise<Readable | undefined> {
  try {
    if ((lease.kind === 'dir') !== (file !== undefined)) {
      throw new CacheEntryKindError(store, file === undefined ? 'file' : 'dir', lease.kind)
    }
    if (lease.kind === 'inline') return Readable.from([lease.data])
    let path = lease.path
    if (lease.kind === 'dir') {
      if (!lease.files.some(([name]) => name === file)) return undefined
      path = join(lease.path, file ?? '')
    }
    const handle = await open(path, 'r')
    return handle.createReadStream()
  } finally {
    lease.release()
  }
}
