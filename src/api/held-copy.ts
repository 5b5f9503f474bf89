/**
 * The copy of an image a requester keeps in its node's cache of copies (see
 * get-image.ts): found and named to the master before a request, and read
 * back only once the master's answer says it is still current.
 */
import { readFile } from 'node:fs/promises'
import type { ImageLease } from '../cache/index.js'
import type { HospitalNode } from '../node/index.js'
import { chunkId, decodeOwnSignedManifest, type Manifest } from '../privacy/payload/index.js'
import type { Downloads } from './downloads.js'

/**
 * A copy of an image kept in this node's cache of copies, pinned until read or
 * let go: its content id, as its manifest names it. Nothing of it is read
 * before the master's answer says it is current: a master that re-sealed the
 * image (a new version, or its own cache evicted) makes every copy stale.
 */
export interface HeldCopy {
  lease: ImageLease
  contentId: Uint8Array
}

/** The newest copy of `id` kept here, or undefined (an unreadable entry counts as none). */
export async function heldCopy (node: HospitalNode, id: string): Promise<HeldCopy | undefined> {
  const lease = await node.dataPlane.cache.copies.get(id).catch(() => undefined)
  if (lease === undefined) return undefined
  try {
    // To name the copy to the master; what is used of it is checked against the manifest the master signs now.
    return { lease, contentId: decodeOwnSignedManifest(lease.manifest).merkleRoot }
  } catch {
    lease.release()
    return undefined
  }
}

/**
 * Puts the chunks of the copy kept here into `sink`, each checked against the
 * manifest the master has just signed (size and hash); a chunk missing or
 * altered on disk is left for the transfer to fetch. Returns how many were put.
 */
export async function readCopy (copy: HeldCopy, manifest: Manifest, sink: Downloads, signal: AbortSignal | undefined, onChunk: (size: number) => void): Promise<number> {
  let put = 0
  for (let index = 0; index < manifest.chunks.length; index++) {
    signal?.throwIfAborted()
    const ref = manifest.chunks[index] as { id: Uint8Array, size: number }
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await readFile(copy.lease.chunkPath(String(index))))
    } catch {
      continue
    }
    if (bytes.byteLength !== ref.size || Buffer.compare(chunkId(bytes), ref.id) !== 0) continue
    await sink.put(index, [bytes])
    onChunk(bytes.byteLength)
    put++
  }
  return put
}
