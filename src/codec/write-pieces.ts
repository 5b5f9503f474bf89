/**
 * Writes bytes held in pieces (see pieces.ts) with gathered writes: one
 * `writev` for the lot (more only after a short write), where writing piece
 * by piece cost a thread-pool round trip per piece (a received 1 MiB chunk
 * is some 16–64 pieces).
 */
import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import { byteLengthOf, piecesOf, type SomeBytes } from './pieces.js'

/** Writes `bytes` at the handle's current position. Returns the number of bytes written. */
export async function writePiecesTo (handle: FileHandle, bytes: SomeBytes): Promise<number> {
  let rest = piecesOf(bytes).filter(p => p.byteLength > 0)
  const total = byteLengthOf(rest)
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest as Uint8Array[])
    if (bytesWritten <= 0) throw new Error('short write')
    let skip = bytesWritten
    const next: Uint8Array[] = []
    for (const p of rest) {
      if (skip >= p.byteLength) { skip -= p.byteLength; continue }
      next.push(skip > 0 ? p.subarray(skip) : p)
      skip = 0
    }
    rest = next
  }
  return total
}

/** Creates (or truncates) the file at `path` with `bytes`, `mode` for a new file. */
export async function writeFilePieces (path: string, bytes: SomeBytes, mode = 0o600): Promise<void> {
  const handle = await open(path, 'w', mode)
  try {
    await writePiecesTo(handle, bytes)
  } finally {
    await handle.close()
  }
}
