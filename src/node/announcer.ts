/**
 * Updates of LFN records that can wait for a quiet moment.
 *
 * When a master prepares an image of an LFN that is already announced (so
 * already locatable), the new record only adds the content id, and with it
 * a provider record for the master: what lets replicas join and `locate`
 * show the content. The requester that asked for the image is served
 * without it. Each announcement costs two DHT queries, and every site
 * handles their messages; at a busy moment (a site serving images) that is
 * a quarter of a hospital node's CPU in a six-site federation, taken from
 * the images being served. So such updates wait until the node has served
 * no image, chunk or key for `quietMs`, or at most `maxDelayMs` under
 * sustained load, then go out one at a time, oldest first. Updates of the
 * same LFN coalesce: only the newest is announced. A failure is logged and
 * left to the next preparation or the republisher, as before.
 */
import type { Logger } from '@libp2p/interface'

export interface AnnouncerInit<T> {
  publish: (input: T) => Promise<void>
  /** True while the node is serving (foreground work). */
  busy: () => boolean
  log: Logger
  quietMs?: number
  maxDelayMs?: number
  /** How often the waiting announcer looks again. */
  pollMs?: number
}

export const ANNOUNCE_QUIET_MS = 1_000
export const ANNOUNCE_MAX_DELAY_MS = 60_000
const POLL_MS = 100

interface Pending<T> { input: T, since: number, done: Promise<void>, resolve: () => void }

export class DeferredAnnouncer<T extends { lfn: string }> {
  private readonly pending = new Map<string, Pending<T>>()
  private timer?: NodeJS.Timeout
  private running = false
  private stopped = false
  private quietSince = performance.now()

  constructor (private readonly init: AnnouncerInit<T>) {}

  /** Announcements waiting now. */
  get size (): number { return this.pending.size }

  /** Queues an update; resolves once it is announced (or given up at stop). Never rejects. */
  async add (input: T): Promise<void> {
    if (this.stopped) return
    const waiting = this.pending.get(input.lfn)
    if (waiting !== undefined) {
      waiting.input = input
      return await waiting.done
    }
    let settle!: () => void
    const done = new Promise<void>(resolve => { settle = resolve })
    // The preparation that led here was foreground work: quiet starts now at the earliest.
    this.quietSince = performance.now()
    this.pending.set(input.lfn, { input, since: performance.now(), done, resolve: settle })
    this.schedule()
    return await done
  }

  /** Drops what still waits (the LFN stays locatable by its earlier record). */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    if (this.pending.size > 0) this.init.log('%d LFN record update(s) not announced before stop', this.pending.size)
    for (const p of this.pending.values()) p.resolve()
    this.pending.clear()
  }

  private schedule (): void {
    if (this.timer !== undefined || this.running || this.stopped) return
    this.timer = setTimeout(() => { this.timer = undefined; this.tick() }, this.init.pollMs ?? POLL_MS)
    this.timer.unref()
  }

  private tick (): void {
    const now = performance.now()
    if (this.init.busy()) this.quietSince = now
    const oldest = [...this.pending.values()][0]
    if (oldest === undefined) return
    const quiet = now - this.quietSince >= (this.init.quietMs ?? ANNOUNCE_QUIET_MS)
    const overdue = now - oldest.since >= (this.init.maxDelayMs ?? ANNOUNCE_MAX_DELAY_MS)
    if (!quiet && !overdue) { this.schedule(); return }
    this.running = true
    this.pending.delete(oldest.input.lfn)
    this.init.publish(oldest.input).catch((err: unknown) => {
      this.init.log('announcing %s failed for now: %s', oldest.input.lfn, (err as Error).name)
    }).finally(() => {
      oldest.resolve()
      this.running = false
      if (this.pending.size > 0) this.schedule()
    })
  }
}
