/**
 * The chunks a master sent ahead of its answer count at the requester only
 * as the answer's signed manifest lists them: anything else is left for the
 * transfer to fetch.
 */
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { memoryDownloads } from '../../src/api/downloads.js'
import { takeAhead } from '../../src/api/ahead-plaintext.js'
import { joined } from '../../src/codec/pieces.js'
import { buildManifest, generateDataKey, sealPayload } from '../../src/privacy/payload/index.js'
import type { AheadChunk } from '../../src/protocols/image/index.js'

function ahead (bytes: Uint8Array): AheadChunk {
  // As they arrive: in pieces.
  return { bytes: [bytes.subarray(0, 10), bytes.subarray(10)], sha256: new Uint8Array(createHash('sha256').update(bytes).digest()) }
}

describe('chunks ahead of the answer, at the requester', () => {
  it('puts only the chunks whose size and hash the manifest lists, and none the sink holds already', async () => {
    const sealed = await sealPayload(randomBytes(4 * 1000 - 50), generateDataKey(), { fileId: 'lfn-1', version: 1, chunkSize: 1000 })
    const manifest = buildManifest({ layout: sealed.layout, chunks: sealed.refs, deidProfile: 'test', master: 'm' })
    const sink = memoryDownloads()
    await sink.put(3, [sealed.chunks[3]?.bytes as Uint8Array])
    const altered = new Uint8Array(sealed.chunks[1]?.bytes as Uint8Array)
    altered[5] = (altered[5] ?? 0) ^ 1
    const chunks = new Map<number, AheadChunk>([
      [0, ahead(sealed.chunks[0]?.bytes as Uint8Array)],
      // Another chunk's bytes, a changed byte, a chunk the manifest does not have, one held already.
      [2, ahead(sealed.chunks[0]?.bytes as Uint8Array)],
      [1, ahead(altered)],
      [9, ahead(sealed.chunks[0]?.bytes as Uint8Array)],
      [3, ahead(sealed.chunks[3]?.bytes as Uint8Array)]
    ])
    const sizes: number[] = []
    const put = await takeAhead(chunks, manifest, sink, size => { sizes.push(size) })
    expect([...put]).toEqual([0])
    expect(sizes).toEqual([sealed.chunks[0]?.bytes.byteLength])
    expect(Buffer.compare(joined(await sink.read(0)), sealed.chunks[0]?.bytes as Uint8Array)).toBe(0)
    expect(await sink.has(1)).toBe(false)
    expect(await sink.has(2)).toBe(false)
    expect([...(await takeAhead(undefined, manifest, sink, () => {}))]).toEqual([])
  })
})
