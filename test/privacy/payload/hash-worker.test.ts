import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { HashWorker } from '../../../src/privacy/payload/hash-worker.js'

describe('hash worker', () => {
  it('hashes on its thread and hands the buffer back, unchanged, without a copy', async () => {
    const worker = new HashWorker()
    try {
      const data = new Uint8Array(randomBytes(300_000))
      const expected = createHash('sha256').update(data).digest('hex')
      const copy = data.slice()
      const backing = new ArrayBuffer(400_000)
      const bytes = new Uint8Array(backing, 1000, data.length)
      bytes.set(data)
      const pending = worker.hash(bytes)
      // Transferred: the caller's view is detached while the worker holds it.
      expect(backing.byteLength).toBe(0)
      expect(worker.pending).toBe(1)
      const r = await pending
      expect(Buffer.from(r.id).toString('hex')).toBe(expected)
      expect(r.bytes.byteOffset).toBe(1000)
      expect(Buffer.compare(r.bytes, copy)).toBe(0)
      expect(worker.pending).toBe(0)
      // Several at once come back to the right callers.
      const many = Array.from({ length: 6 }, (_, i) => new Uint8Array(randomBytes(1000 + i)))
      const hex = many.map(b => createHash('sha256').update(b).digest('hex'))
      const ids = await Promise.all(many.map(async b => await worker.hash(b)))
      expect(ids.map(r => Buffer.from(r.id).toString('hex'))).toEqual(hex)
    } finally {
      await worker.close()
    }
  })

  it('fails the jobs it holds when stopped', async () => {
    const worker = new HashWorker()
    const failed = expect(worker.hash(new Uint8Array(1 << 20))).rejects.toMatchObject({ name: 'HashWorkerError' })
    await worker.close()
    await failed
  })
})
