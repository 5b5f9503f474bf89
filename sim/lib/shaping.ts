/**
 * Link shaping in user space (Linux `tc netem` is not available on every
 * machine): a TCP proxy whose two directions pass through shaped links. A
 * link has a bandwidth (a token bucket, shareable between connections so a
 * site's access link is one bottleneck), a one-way latency with jitter (a
 * delay line that keeps byte order), and a loss rate. Over TCP a lost segment
 * is retransmitted, not dropped: loss is modelled as its cost — the segment
 * and everything behind it wait one retransmission timeout. A link can also
 * be held (a partition): bytes stop flowing but are not lost, as TCP
 * retransmits until the path comes back or an end gives up.
 *
 * Every field of a `LinkSpec` is read again for each segment, so a scenario
 * can slow, delay or hold a link while connections are open.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/** Idle time a link may catch up on (see TokenBucket). */
export const BURST_MS = 25

/**
 * A link's transmitter, in bytes per second: each `take` reserves the next
 * free slot on the link (in call order) and resolves when its bytes have
 * passed. Reservations are kept on a virtual clock, so a timer that fires
 * late (the event loop was busy) costs no capacity: a backlog catches up at
 * the link's rate, as a NIC keeps sending whatever the application does. An
 * idle link gives at most the credit of `burstMs` (at least `minBurstBytes`).
 *
 * That credit has to cover how late the shaping process can be scheduled on
 * a loaded machine, not just a timer's granularity: with 5 ms of credit
 * (64 KiB at 100 Mbit/s), paper-fig4b's requesting link carried 91 % of its
 * rate while data waited for it; with 25 ms, 95 %. Whatever the credit, the
 * link never carries more than its rate over any span plus one burst.
 */
export class TokenBucket {
  private rate: number
  private readonly burstMs: number
  private readonly minBurstBytes: number
  /** When the link is free again, `performance.now()` ms. */
  private nextFree = 0
  /** Bytes that went through since creation. */
  passed = 0

  constructor (bitsPerSecond: number, options: { burstMs?: number, minBurstBytes?: number } = {}) {
    this.rate = bitsPerSecond / 8
    this.burstMs = options.burstMs ?? BURST_MS
    this.minBurstBytes = options.minBurstBytes ?? 64 * 1024
  }

  get bytesPerSecond (): number { return this.rate }

  /** Changes the rate of reservations made from now on (a link slowed down or restored). */
  setBitsPerSecond (bitsPerSecond: number): void {
    this.rate = bitsPerSecond / 8
  }

  /** Waits until `bytes` have passed the link; callers are served in order. */
  async take (bytes: number): Promise<void> {
    const now = performance.now()
    const creditMs = Math.max(this.burstMs, this.minBurstBytes / this.rate * 1000)
    this.nextFree = Math.max(this.nextFree, now - creditMs) + bytes / this.rate * 1000
    const wait = this.nextFree - now
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    this.passed += bytes
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
  /** While true, nothing passes (a partition); bytes wait, as TCP retransmissions would. */
  held?: () => boolean
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
/** How often a held link looks whether it may flow again. */
const HOLD_POLL_MS = 20

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * Pipes `from` into `to` through the link: hold, bandwidth, then the delay
 * line. Reading pauses while the link is busy, so TCP flow control slows the
 * sender (no unbounded buffering).
 */
export function shapedPipe (from: Socket, to: Socket, link: LinkSpec): void {
  const random = link.random ?? Math.random
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
        while (link.held?.() === true && !to.destroyed) await sleep(HOLD_POLL_MS)
        for (const b of link.buckets) await b.take(seg.byteLength)
        const latency = link.latencyMs ?? 0
        let delay = latency + (link.jitterMs ?? 0) * (random() * 2 - 1)
        const loss = link.loss ?? 0
        if (loss > 0 && random() < loss) delay += link.rtoMs ?? Math.max(200, 3 * latency)
        // Keep order: a segment never overtakes the one before it.
        const at = Math.max(performance.now() + Math.max(0, delay), releaseAt)
        releaseAt = at
        const wait = at - performance.now()
        if (wait > 0) await sleep(wait)
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
  /** Client sockets and their upstream socket. */
  private readonly pairs = new Map<Socket, Socket>()
  /** Set to true to cut every connection and refuse new ones (a partition). */
  blocked = false

  constructor (init: ProxyInit) {
    this.init = init
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  /** Connections open through the proxy now. */
  get connections (): number { return this.pairs.size }

  async start (port = 0): Promise<number> {
    const server = createServer(client => {
      if (this.blocked) { client.destroy(); return }
      client.setNoDelay(true)
      const upstream = connect({ ...this.init.target, noDelay: true })
      this.pairs.set(client, upstream)
      client.on('close', () => this.pairs.delete(client))
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

  /** Cuts the connections whose client matches (e.g. one site's). */
  cutWhere (match: (client: Socket) => boolean): number {
    let n = 0
    for (const [client, upstream] of this.pairs) {
      if (!match(client)) continue
      client.destroy()
      upstream.destroy()
      n++
    }
    return n
  }

  async stop (): Promise<void> {
    this.cut()
    const server = this.server
    this.server = undefined
    if (server !== undefined) await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }
}
