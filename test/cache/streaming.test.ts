import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ByteStore } from '../../src/cache/store.js'
import { fixture, makeStore, type Fixture } from './helpers.js'

const MiB = 1024 * 1024
const SIZE = 64 * MiB

/** 64 MiB in 1 MiB chunks from one reused buffer: the source itself never holds more than 1 MiB. */
async function * source (): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(MiB)
  for (let i = 0; i < SIZE / MiB; i++) {
    chunk.fill(i * 7 % 256)
    chunk[0] = i
    yield chunk
  }
}

function expectedDigest (): string {
  const hash = createHash('sha256')
  const chunk = new Uint8Array(MiB)
  for (let i = 0; i < SIZE / MiB; i++) {
    chunk.fill(i * 7 % 256)
    chunk[0] = i
    hash.update(chunk)
  }
  return hash.digest('hex')
}

// A collector to call between chunks, so the peak measured is what is held, not garbage awaiting collection.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Peak growth of JS heap + ArrayBuffer memory while `fn` runs, sampled every few ms. */
async function peakGrowth (fn: () => Promise<void>): Promise<number> {
  const used = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }
  const base = used()
  let peak = base
  const timer = setInterval(() => { peak = Math.max(peak, used()) }, 2)
  try {
    await fn()
  } finally {
    clearInterval(timer)
  }
  return Math.max(peak, used()) - base
}

describe('ByteStore streaming', () => {
  let f: Fixture
  let store: ByteStore
  beforeAll(async () => {
    f = await fixture()
    store = makeStore(f, { maxBytes: 128 * MiB })
    await store.open()
  })
  afterAll(async () => {
    await store.close()
    await f.remove()
  })

  it('puts and gets a 64 MiB entry without holding it in memory', async () => {
    const want = expectedDigest()
    const putGrowth = await peakGrowth(async () => { await store.put('big', source()) })
    expect(store.stats()).toMatchObject({ bytes: SIZE, entries: 1 })

    let streamed = ''
    const streamGrowth = await peakGrowth(async () => {
      const stream = await store.createReadStream('big')
      if (stream === undefined) throw new Error('miss')
      const hash = createHash('sha256')
      let seen = 0
      for await (const chunk of stream) {
        hash.update(chunk as Buffer)
        seen += (chunk as Buffer).byteLength
        if (seen % (4 * MiB) === 0) gc()
      }
      streamed = hash.digest('hex')
    })
    expect(streamed).toBe(want)

    const lease = await store.get('big')
    if (lease?.kind !== 'file') throw new Error('expected a file lease')
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(lease.path)) hash.update(chunk as Buffer)
    lease.release()
    expect(hash.digest('hex')).toBe(want)

    // Holding the entry would cost at least 64 MiB; streaming stays far below.
    expect(putGrowth).toBeLessThan(16 * MiB)
    expect(streamGrowth).toBeLessThan(16 * MiB)
  })
})
