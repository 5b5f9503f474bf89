/**
 * The volume's chunks sent ahead of the answer, opened on arrival: the
 * plaintext is handed out only for the manifest, layout and key it was
 * opened under, every chunk present and listed.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AheadPlaintext } from '../../src/api/ahead-plaintext.js'
import { writePlaintext } from '../../src/api/downloads.js'
import { buildManifest, generateDataKey, sealPayload, type Manifest, type SealedPayload } from '../../src/privacy/payload/index.js'
import type { AheadChunk } from '../../src/protocols/image/index.js'
import { tempDir } from '../helpers/tmp.js'

const CHUNK = 4096

function aheadOf (bytes: Uint8Array): AheadChunk {
  return { bytes: [bytes.subarray(0, 100), bytes.subarray(100)], sha256: new Uint8Array(createHash('sha256').update(bytes).digest()) }
}

async function sealed (): Promise<{ plain: Uint8Array, key: Uint8Array, payload: SealedPayload, manifest: Manifest }> {
  const plain = new Uint8Array(randomBytes(3 * CHUNK - 10))
  const key = generateDataKey()
  const payload = await sealPayload(plain, key, { fileId: 'lfn-1', version: 4, chunkSize: CHUNK })
  return { plain, key, payload, manifest: buildManifest({ layout: payload.layout, chunks: payload.refs, deidProfile: 'test', master: 'm' }) }
}

function layoutOf (p: SealedPayload): { chunkSize: number, totalSize: number, salt: Uint8Array } {
  return { chunkSize: p.layout.chunkSize, totalSize: p.layout.totalSize, salt: p.layout.salt }
}

describe('chunks opened ahead of the answer', () => {
  it('opens chunks whichever comes first, chunks, key or layout, and hands out the plaintext for its manifest and key', async () => {
    const { plain, key, payload, manifest } = await sealed()
    const opened = new AheadPlaintext('lfn-1', 4)
    opened.chunk(2, aheadOf(payload.chunks[2]?.bytes as Uint8Array))
    opened.key(key)
    opened.chunk(0, aheadOf(payload.chunks[0]?.bytes as Uint8Array))
    opened.setLayout(layoutOf(payload))
    expect(opened.take(manifest, key)).toBeUndefined()
    opened.chunk(1, aheadOf(payload.chunks[1]?.bytes as Uint8Array))
    const out = opened.take(manifest, key)
    expect(Buffer.compare(Buffer.concat(out ?? []), plain)).toBe(0)
  })

  it('hands out nothing for another key, another layout, a chunk not listed, or one that does not open', async () => {
    const { key, payload, manifest } = await sealed()
    const all = (o: AheadPlaintext, chunks = payload.chunks.map(c => c.bytes)): void => { chunks.forEach((b, i) => { o.chunk(i, aheadOf(b)) }) }
    const fresh = (): AheadPlaintext => { const o = new AheadPlaintext('lfn-1', 4); o.key(key); o.setLayout(layoutOf(payload)); return o }

    const o1 = fresh()
    all(o1)
    expect(o1.take(manifest, generateDataKey())).toBeUndefined()
    expect(o1.take({ ...manifest, salt: new Uint8Array(randomBytes(32)) }, key)).toBeUndefined()
    expect(o1.take({ ...manifest, version: 5 }, key)).toBeUndefined()
    expect(o1.take({ ...manifest, chunks: manifest.chunks.map((c, i) => i === 1 ? { ...c, id: new Uint8Array(32) } : c) }, key)).toBeUndefined()
    expect(o1.take(manifest, key)).toBeDefined()

    // Altered bytes: they hash to something the manifest does not list, and they do not open either.
    const altered = payload.chunks.map((c, i) => {
      const copy = new Uint8Array(c.bytes)
      if (i === 1) copy[7] = (copy[7] as number) ^ 1
      return copy
    })
    const o2 = fresh()
    all(o2, altered)
    expect(o2.take(manifest, key)).toBeUndefined()

    // A layout sent ahead that is not the sealing's: nothing opens.
    const o3 = new AheadPlaintext('lfn-1', 4)
    o3.key(key)
    o3.setLayout({ ...layoutOf(payload), salt: new Uint8Array(randomBytes(32)) })
    all(o3)
    expect(o3.take(manifest, key)).toBeUndefined()
  })
})

describe('writing plaintext held in memory', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  beforeEach(async () => { tmp = await tempDir('dm2-plain-') })
  afterEach(async () => { await tmp.remove() })

  it('writes the pieces in order, plain or gzip-compressed', async () => {
    const pieces = [randomBytes(5000), randomBytes(1), new Uint8Array(0), randomBytes(70000)].map(b => new Uint8Array(b))
    const whole = Buffer.concat(pieces)
    expect(await writePlaintext(pieces, join(tmp.path, 'v.nii'))).toBe(whole.byteLength)
    expect(Buffer.compare(await readFile(join(tmp.path, 'v.nii')), whole)).toBe(0)
    expect(await writePlaintext(pieces, join(tmp.path, 'v.nii.gz'))).toBe(whole.byteLength)
    expect(Buffer.compare(gunzipSync(await readFile(join(tmp.path, 'v.nii.gz'))), whole)).toBe(0)
  })
})
