import { createServer, connect, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { seededRandom, ShapingProxy, TokenBucket } from '../../sim/lib/shaping.js'

const servers: Server[] = []
const proxies: ShapingProxy[] = []
afterEach(async () => {
  await Promise.all(proxies.splice(0).map(async p => { await p.stop() }))
  for (const s of servers.splice(0)) s.close()
})

/** A server that sends `bytes` bytes to each client, or echoes when bytes is 0. */
async function origin (bytes: number): Promise<number> {
  const server = createServer(s => {
    s.on('error', () => {})
    if (bytes === 0) { s.pipe(s); return }
    s.end(Buffer.alloc(bytes, 7))
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

async function download (port: number): Promise<{ bytes: number, ms: number }> {
  const t = performance.now()
  let bytes = 0
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.on('data', (d: Buffer) => { bytes += d.byteLength })
    s.on('end', resolve)
    s.on('error', reject)
  })
  return { bytes, ms: performance.now() - t }
}

describe('user-space link shaping', () => {
  it('never lets more through than the bandwidth allows, and delivers every byte', async () => {
    const port = await origin(1_000_000)
    const link = new TokenBucket(8_000_000, { burstMs: 16, minBurstBytes: 16 * 1024 }) // 1 MB/s
    const proxy = new ShapingProxy({ target: { host: '127.0.0.1', port }, upstream: () => ({ buckets: [] }), downstream: () => ({ buckets: [link] }) })
    proxies.push(proxy)
    const { bytes, ms } = await download(await proxy.start())
    expect(bytes).toBe(1_000_000)
    // 1 MB at 1 MB/s, less the initial burst: at least ~0.95 s.
    expect(ms).toBeGreaterThan(900)
  })

  it('a backlog catches up on a late scheduler within the idle credit, and never passes the rate', async () => {
    // 1 MB/s in 16 KiB reservations; every 4th one, the event loop is busy for 12 ms.
    const run = async (link: TokenBucket): Promise<number> => {
      const t = performance.now()
      for (let i = 0; i < 64; i++) {
        if (i % 4 === 3) { const until = performance.now() + 12; while (performance.now() < until) { /* busy */ } }
        await link.take(16 * 1024)
      }
      return performance.now() - t
    }
    const ideal = 64 * 16 * 1024 / 1e6 * 1000
    const generous = await run(new TokenBucket(8_000_000, { burstMs: 25, minBurstBytes: 0 }))
    const tight = await run(new TokenBucket(8_000_000, { burstMs: 1, minBurstBytes: 0 }))
    // With 25 ms of credit, lateness costs nothing; with 1 ms, most of each 12 ms stall is lost.
    expect(generous).toBeLessThan(ideal * 1.15)
    expect(tight).toBeGreaterThan(generous + 100)
    // Never more than the rate plus one burst.
    expect(generous).toBeGreaterThan(ideal - 25 - 5)
  })

  it('two connections sharing one bucket share its bandwidth', async () => {
    const port = await origin(500_000)
    const link = new TokenBucket(8_000_000, { burstMs: 16, minBurstBytes: 16 * 1024 })
    const proxy = new ShapingProxy({ target: { host: '127.0.0.1', port }, upstream: () => ({ buckets: [] }), downstream: () => ({ buckets: [link] }) })
    proxies.push(proxy)
    const p = await proxy.start()
    const t = performance.now()
    const [a, b] = await Promise.all([download(p), download(p)])
    expect(a.bytes + b.bytes).toBe(1_000_000)
    expect(performance.now() - t).toBeGreaterThan(900)
  })

  it('adds latency each way and keeps byte order under jitter and loss', async () => {
    const port = await origin(0)
    const random = seededRandom(42)
    const proxy = new ShapingProxy({
      target: { host: '127.0.0.1', port },
      upstream: () => ({ buckets: [], latencyMs: 40, jitterMs: 10, loss: 0.2, rtoMs: 30, random }),
      downstream: () => ({ buckets: [], latencyMs: 40, jitterMs: 10, random })
    })
    proxies.push(proxy)
    const p = await proxy.start()
    const s = connect(p, '127.0.0.1')
    const received: Buffer[] = []
    const t = performance.now()
    let first = 0
    await new Promise<void>(resolve => {
      s.on('data', (d: Buffer) => {
        if (first === 0) first = performance.now() - t
        received.push(d)
        if (Buffer.concat(received).byteLength >= 100 * 4) resolve()
      })
      for (let i = 0; i < 100; i++) {
        const b = Buffer.alloc(4)
        b.writeUInt32BE(i)
        s.write(b)
      }
    })
    s.destroy()
    expect(first).toBeGreaterThanOrEqual(60)
    const all = Buffer.concat(received)
    for (let i = 0; i < 100; i++) expect(all.readUInt32BE(i * 4)).toBe(i)
  })

  it('a blocked proxy cuts connections and refuses new ones (a partition)', async () => {
    const port = await origin(0)
    const proxy = new ShapingProxy({ target: { host: '127.0.0.1', port }, upstream: () => ({ buckets: [] }), downstream: () => ({ buckets: [] }) })
    proxies.push(proxy)
    const p = await proxy.start()
    const s = connect(p, '127.0.0.1')
    const closed = new Promise(resolve => s.on('close', resolve))
    s.on('error', () => {})
    await new Promise(resolve => s.on('connect', resolve))
    proxy.blocked = true
    proxy.cut()
    await closed
    const refused = await new Promise(resolve => {
      const c = connect(p, '127.0.0.1')
      c.on('error', () => resolve(true))
      c.on('close', () => resolve(true))
    })
    expect(refused).toBe(true)
  })
})
