/** Where slices come from: files in a folder, or buffers already in memory (benchmarks, the slice cache). */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { MAX_OBJECT_BYTES, MAX_SOURCES } from './constants.js'
import { InvalidDicomError, NotOneSeriesError } from './errors.js'

export interface SliceSource {
  /** A name for messages (a relative path; never patient data). */
  name: string
  /** The object's bytes; called once per pass, so memory holds one object at a time. */
  read: () => Promise<Uint8Array>
}

/** Every regular file under `dir` (recursively, hidden files skipped), sorted by name. */
export async function sourcesFromDirectory (dir: string): Promise<SliceSource[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files = entries
    .filter(e => e.isFile() && !e.name.startsWith('.'))
    .map(e => join(e.parentPath, e.name))
    .sort()
  if (files.length === 0) throw new NotOneSeriesError(`${dir}: no files`)
  if (files.length > MAX_SOURCES) throw new NotOneSeriesError(`${dir}: more than ${MAX_SOURCES} files`)
  return files.map(path => {
    const name = relative(dir, path)
    return {
      name,
      read: async () => {
        const { size } = await stat(path)
        if (size > MAX_OBJECT_BYTES) throw new InvalidDicomError(name, `larger than ${MAX_OBJECT_BYTES} bytes`)
        const buf = await readFile(path)
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      }
    }
  })
}

/** Sources over in-memory objects. */
export function sourcesFromBuffers (objects: ReadonlyArray<{ name: string, bytes: Uint8Array }>): SliceSource[] {
  if (objects.length > MAX_SOURCES) throw new NotOneSeriesError(`more than ${MAX_SOURCES} objects`)
  return objects.map(o => ({ name: o.name, read: async () => o.bytes }))
}
