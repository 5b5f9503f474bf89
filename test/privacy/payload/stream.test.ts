import { createHash, randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { SEAL_AHEAD, generateDataKey, openStream, sealStream } from '../../../src/privacy/payload/index.js'
import type { PayloadProgress, SealedChunk } from '../../../src/privacy/payload/index.js'
import { FILE, failure } from './helpers.js'

const MiB = 1024 * 1024

// A handle on V8's collector, so live memory can be measured without waiting for it.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('streaming with bounded memory', () => {
  async function bounded (hashWorker: boolean): Promise<void> {
    const total = 64 * MiB
    const chunkSize = MiB
    const block = randomBytes(64 * 1024)
    const sourceHash = createHash('sha256')
    const outHash = createHash('sha256')
    let pulled = 0
    let out = 0
    let maxGap = 0
    gc()
    const baseline = process.memoryUsage().arrayBuffers
    let peak = 0
    async function * source (): AsyncGenerator<Uint8Array> {
      for (let i = 0; pulled < total; i++) {
        const piece = Buffer.from(block)
        piece.writeUInt32BE(i, 0)
        sourceHash.update(piece)
        pulled += piece.length
        maxGap = Math.max(maxGap, pulled - out)
        yield piece
      }
    }
    const key = generateDataKey()
    const sealer = sealStream(source(), key, { ...FILE, chunkSize, totalSize: total, hashWorker })
    for await (const piece of openStream(sealer.chunks, key, sealer.layout)) {
      outHash.update(piece)
      out += piece.length
      if (out % (4 * MiB) === 0) {
        // Twice: one collection can leave backing stores of the last cycle unreleased.
        gc()
        gc()
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline)
      }
    }
    expect(out).toBe(total)
    expect(outHash.digest('hex')).toBe(sourceHash.digest('hex'))
    expect(sealer.refs).toHaveLength(64)
    // Source bytes pulled but not yet opened: the chunk being sealed and the one handed on,
    // plus, with the hash worker, the sealed chunks waiting for their ids.
    expect(maxGap).toBeLessThanOrEqual((hashWorker ? SEAL_AHEAD + 1 : 2) * chunkSize)
    expect(maxGap).toBeGreaterThanOrEqual(chunkSize)
    // Live buffers after a collection: a few chunks, not the 64 MiB (let alone the
    // 128 MiB of plaintext and ciphertext) that buffering the payload would hold.
    expect(peak).toBeLessThan(16 * MiB)
  }

  it('seals and opens 64 MiB with only a few chunks in flight', async () => { await bounded(false) })
  it('does so with the ids hashed on a worker thread', async () => { await bounded(true) })

  it('seals no further ahead of a slow consumer than the chunk in progress', async () => {
    const chunkSize = 1024
    const data = new Uint8Array(40 * chunkSize)
    let pulled = 0
    async function * source (): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += 100) {
        pulled += Math.min(100, data.length - at)
        yield data.subarray(at, at + 100)
      }
    }
    const sealer = sealStream(source(), generateDataKey(), { ...FILE, chunkSize, totalSize: data.length })
    let consumed = 0
    for await (const chunk of sealer.chunks) {
      consumed++
      await new Promise(resolve => setImmediate(resolve))
      // Chunks started from the source beyond those consumed: at most the one in progress.
      expect(Math.ceil(pulled / chunkSize) - consumed, `chunk ${chunk.index}`).toBeLessThanOrEqual(1)
    }
    expect(consumed).toBe(40)
  })
})

describe('stream contract', () => {
  it('reports progress and honours an AbortSignal', async () => {
    const data = new Uint8Array(10_000)
    const events: PayloadProgress[] = []
    const sealer = sealStream([data], generateDataKey(), { ...FILE, chunkSize: 1000, totalSize: data.length, onProgress: p => events.push(p) })
    const chunks: SealedChunk[] = []
    for await (const c of sealer.chunks) chunks.push(c)
    expect(events).toHaveLength(10)
    expect(events.at(-1)).toEqual({ chunks: 10, totalChunks: 10, bytes: 10_000, totalBytes: 10_000 })

    const controller = new AbortController()
    const key = generateDataKey()
    const aborting = sealStream([data], key, { ...FILE, chunkSize: 1000, totalSize: data.length, signal: controller.signal })
    const got: SealedChunk[] = []
    const name = await failure(async () => {
      for await (const c of aborting.chunks) {
        got.push(c)
        controller.abort()
      }
    })
    expect(name).toBe('AbortError')
    expect(got.length).toBeLessThan(10)
  })

  it('refuses a source that yields more or fewer bytes than declared, or non-bytes', async () => {
    const key = generateDataKey()
    const drain = async (source: Iterable<unknown>, totalSize: number): Promise<string> => await failure(async () => {
      const sealer = sealStream(source as Iterable<Uint8Array>, key, { ...FILE, chunkSize: 8, totalSize })
      let n = 0
      for await (const chunk of sealer.chunks) n += chunk.bytes.length
      return n
    })
    expect(await drain([new Uint8Array(10)], 9)).toBe('PayloadSizeError')
    expect(await drain([new Uint8Array(10)], 11)).toBe('PayloadSizeError')
    expect(await drain(['text'], 4)).toBe('PayloadParameterError')
    expect(await drain([new Uint8Array(4)], 4)).toBe('resolved')
    expect(await failure(async () => sealStream([], key, { ...FILE, totalSize: 0, chunkSize: 0 }))).toBe('PayloadParameterError')
    expect(await failure(async () => sealStream([], key, { fileId: 'x'.repeat(257), version: 1, totalSize: 0 }))).toBe('PayloadParameterError')
  })
})
