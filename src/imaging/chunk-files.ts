/**
 * The sealed chunk files of one preparation, created ahead in its work folder
 * while the slices still arrive from the PACS, then filled by the seal step.
 * Creating a file is not always cheap: on an ext4 without a journal, the
 * inode allocation scans past every inode freed in the last minutes, under
 * the folder's lock, and in a fresh full miss the seal step waited for its
 * five creations one after another. Files are created in the thread pool;
 * one the estimate missed is created when it is needed. Whatever is left
 * (an estimate too high, a failure) goes with the work folder.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** At most this many files created ahead (a larger image creates the rest as it goes). */
export const MAX_CHUNK_FILES_AHEAD = 16

export class ChunkFiles {
  private readonly handles = new Map<number, Promise<FileHandle>>()

  constructor (private readonly dir: string) {}

  /** Starts creating the first `count` chunk files. */
  prepare (count: number): void {
    for (let i = 0; i < Math.min(count, MAX_CHUNK_FILES_AHEAD); i++) this.handle(i)
  }

  path (index: number): string {
    return join(this.dir, `chunk-${index}`)
  }

  /** Writes chunk `index` whole and closes its file. */
  async write (index: number, bytes: Uint8Array): Promise<void> {
    const handle = await this.handle(index)
    this.handles.delete(index)
    try {
      await handle.writeFile(bytes)
    } finally {
      await handle.close()
    }
  }

  /** Closes the files created ahead and never written (their folder removes them). */
  async close (): Promise<void> {
    const left = [...this.handles.values()]
    this.handles.clear()
    await Promise.allSettled(left.map(async h => { await (await h).close() }))
  }

  private handle (index: number): Promise<FileHandle> {
    let h = this.handles.get(index)
    if (h === undefined) {
      h = open(this.path(index), 'wx', 0o600)
      // A failure surfaces when the chunk is written (or nowhere, if it never is).
      h.catch(() => {})
      this.handles.set(index, h)
    }
    return h
  }
}
