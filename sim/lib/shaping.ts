/**
 * Link shaping in user space (Linux `tc netem` is not available on every
 * machine): a TCP proxy whose two directions pass through shaped links. A
 * link has a bandwidth (a token bucket, shareable between connections so a
 * site's access link is one bottleneck), a one-way latency with jitter (a
 * delay line that keeps byte order), and a loss rate. Over TCP a lost segment
 * is retransmitted, not dropped: loss is modelled as its cost — the segment
 * and everything behind it wait one retransmission timeout.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/** A token bucket in bytes per second; `take` resolves when the bytes may pass. */
export class TokenBucket {
  readonly bytesPerSecond: number
  private readonly burst: number
  private tokens: number
  private last = performance.now()
  private queue: Promise<void> = Promise.resolve()

  constructor (bitsPerSecond: number, burstBytes = 64 * 1024) {
    this.bytesPerSecond = bitsPerSecond / 8
    this.burst = burstBytes
    this.tokens = burstBytes
  }

  private refill (): void {
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / 1000 * this.bytesPerSecond)
    this.last = now
  }

  /** Waits until `bytes` tokens are available; callers are served in order. */
  async take (bytes: number): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill()
      this.tokens -= bytes
      if (this.tokens < 0) {
        await new Promise(resolve => setTimeout(resolve, -this.tokens / this.bytesPerSecond * 1000))
        this.refill()
      }
    })
    this.queue = turn
    await turn
  }
}

export interface LinkSpec {
  /** Buckets the bytes must pass, e.g. the sender's uplink and the receiver's downlink. */
  buckets: TokenBucket[]
  latencyMs?: number
  jitterMs?: number
  /** Probability that a segment (one socket read) is lost and retransmitted. */
  loss?: number
  /** Retransmission timeout charged for a lost segment. Default max(200 ms, 3 × latency). */
  rtoMs?: number
  /** Deterministic randomness (jitter, loss). */
  random?: () => number
}

/** A seeded PRNG (mulberry32) so runs can be replayed. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEGMENT = 16 * 1024

/**
 * Pipes `from` into `to` through the link: bandwidth first, then the delay
 * line. Reading pauses while the link is busy, so TCP flow control slows the
 * sender (no unbounded buffering).
 */
export function shapedPipe (from: Socket, to: Socket, link: LinkSpec): void {
  const random = link.random ?? Math.random
  const latency = link.latencyMs ?? 0
  const rto = link.rtoMs ?? Math.max(200, 3 * latency)
  let releaseAt = 0
  let inFlight = 0
  let ended = false
  const maybeEnd = (): void => { if (ended && inFlight === 0) to.end() }
  from.on('data', (data: Buffer) => {
    from.pause()
    inFlight++
    const work = async (): Promise<void> => {
      for (let off = 0; off < data.byteLength; off += SEGMENT) {
        const seg = data.subarray(off, off + SEGMENT)
        for (const b of link.buckets) await b.take(seg.byteLength)
        let delay = latency + (link.jitterMs ?? 0) * (random() * 2 - 1)
        if ((link.loss ?? 0) > 0 && random() < (link.loss ?? 0)) delay += rto
        // Keep order: a segment never overtakes the one before it.
        const at = Math.max(performance.now() + Math.max(0, delay), releaseAt)
        releaseAt = at
        const wait = at - performance.now()
        if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
        if (!to.destroyed && !to.write(seg)) await new Promise(resolve => to.once('drain', resolve))
      }
    }
    work().then(() => {
      inFlight--
      if (!from.destroyed) from.resume()
      maybeEnd()
    }, () => { from.destroy(); to.destroy() })
  })
  from.on('end', () => { ended = true; maybeEnd() })
  from.on('error', () => { to.destroy() })
  from.on('close', () => { if (inFlight === 0) to.destroy() })
}

export interface ProxyInit {
  /** Where connections go. */
  target: { host: string, port: number }
  /** The link for bytes from the client to the target, chosen per client (by its address). */
  upstream: (client: Socket) => LinkSpec
  /** The link for bytes from the target back to the client. */
  downstream: (client: Socket) => LinkSpec
  host?: string
}

/** A TCP proxy on 127.0.0.1 whose two directions are shaped links. */
export class ShapingProxy {
  private readonly init: ProxyInit
  private server?: Server
  private readonly sockets = new Set<Socket>()
  /** Set to true to cut every connection and refuse new ones (a partition). */
  blocked = false

  constructor (init: ProxyInit) {
    this.init = init
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  async start (port = 0): Promise<number> {
    const server = createServer(client => {
      if (this.blocked) { client.destroy(); return }
      client.setNoDelay(true)
      const upstream = connect({ ...this.init.target, noDelay: true })
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => {})
      }
      shapedPipe(client, upstream, this.init.upstream(client))
      shapedPipe(upstream, client, this.init.downstream(client))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, this.init.host ?? '127.0.0.1', () => { resolve() })
    })
    this.server = server
    return this.port
  }

  /** Cuts every open connection through the proxy. */
  cut (): void {
    for (const s of this.sockets) s.destroy()
  }

  async stop (): Promise<void> {
    this.cut()
    const server = this.server
    this.server = undefined
    if (server !== undefined) await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }
}
