/**
 * Announcing this site's series in the DHT: one at registration, and every
 * registered series again when the node starts (a node that was down, moved,
 * or lost its DHT neighbours would otherwise stay invisible until each of its
 * series changes). A series whose current version is already prepared is
 * announced with its content id, so requesters can find its replicas.
 */
import { createHash } from 'node:crypto'
import type { Logger } from '@libp2p/interface'
import PQueue from 'p-queue'
import { waitForQuiet } from './quiet.js'
import type { SeriesCatalog } from '../imaging/types.js'
import type { DataPlane } from './data-plane.js'

/** Announcements in flight at start-up: the DHT puts of a large registry are spread out. */
const STARTUP_CONCURRENCY = 4
/**
 * Announcements of newly registered series in flight: each is a DHT query
 * and a put that every site handles, and hundreds at once (a PACS folder
 * registered in one go) only make them slower and their timeouts likelier.
 */
export const REGISTRATION_ANNOUNCE_CONCURRENCY = 8

export interface AnnounceDeps {
  catalog: SeriesCatalog
  dataPlane: DataPlane
  publish: (input: { lfn: string, version: number, contentId: Uint8Array, manifestHash: Uint8Array, meta: Record<string, string | number> }) => Promise<unknown>
  log: Logger
}

/** Publishes the LFN record of the current version of `lfn` (with its content id once prepared). */
export async function announceSeries (deps: AnnounceDeps, lfn: string): Promise<void> {
  const info = await deps.catalog.describe(lfn)
  if (info === undefined) return
  let contentId = new Uint8Array(0)
  let manifestHash = new Uint8Array(0)
  const lease = await deps.dataPlane.cache.images.get(lfn, info.version)
  if (lease !== undefined) {
    try {
      const key = await deps.dataPlane.keys.get(lfn, info.version)
      if (key !== undefined) {
        contentId = new Uint8Array(Buffer.from(key.contentId, 'hex'))
        manifestHash = new Uint8Array(createHash('sha256').update(lease.manifest).digest())
      }
    } finally {
      lease.release()
    }
  }
  await deps.publish({ lfn, version: info.version, contentId, manifestHash, meta: info.meta })
}

/** Announces every listed series in the background; `stop()` abandons what is left. */
export function announceAll (deps: AnnounceDeps, list: () => Promise<string[]>): { stop: () => Promise<void> } {
  const queue = new PQueue({ concurrency: STARTUP_CONCURRENCY })
  let stopped = false
  const run = list().then(lfns => {
    for (const lfn of lfns) {
      queue.add(async () => {
        if (stopped) return
        await announceSeries(deps, lfn).catch((err: unknown) => { deps.log('announcing %s failed for now: %s', lfn, (err as Error).name) })
      }).catch(() => {})
    }
    if (lfns.length > 0) deps.log('announcing %d registered series', lfns.length)
  }).catch((err: unknown) => { deps.log('listing registered series failed: %s', (err as Error).name) })
  return {
    stop: async () => {
      stopped = true
      queue.clear()
      await run
      await queue.onIdle()
    }
  }
}

/**
 * Announcements of newly registered series: a few DHT puts at a time,
 * however many series arrive at once. Failures are logged: the republisher
 * and the next registration try again. `clear()` drops what has not started
 * (the series stay registered; the next start announces every one).
 */
export class RegistrationAnnouncer {
  private readonly queue = new PQueue({ concurrency: REGISTRATION_ANNOUNCE_CONCURRENCY })

  /** `deps()` is undefined while the node is not running; nothing is announced then. */
  constructor (private readonly deps: () => AnnounceDeps | undefined) {}

  add (lfn: string): void {
    if (this.deps() === undefined) return
    this.queue.add(async () => {
      const deps = this.deps()
      if (deps === undefined) return
      await announceSeries(deps, lfn).catch((err: unknown) => { deps.log('announcing %s failed for now: %s', lfn, (err as Error).name) })
    }).catch(() => {})
  }

  clear (): void { this.queue.clear() }
}

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
export class DeferredAnnouncer<T extends { lfn: string }> {
  /** Oldest first (a Map keeps insertion order; an update keeps its place). */
  private readonly pending = new Map<string, Pending<T>>()
  private draining?: Promise<void>
  private readonly controller = new AbortController()

  constructor (private readonly init: AnnouncerInit<T>) {}

  /** Announcements waiting now. */
  get size (): number { return this.pending.size }

  /** Queues an update; resolves once it is announced (or given up at stop). Never rejects. */
  async add (input: T): Promise<void> {
    if (this.controller.signal.aborted) return
    const waiting = this.pending.get(input.lfn)
    if (waiting !== undefined) {
      waiting.input = input
      return await waiting.done
    }
    let settle!: () => void
    const done = new Promise<void>(resolve => { settle = resolve })
    this.pending.set(input.lfn, { input, since: Date.now(), done, resolve: settle })
    this.draining ??= this.drain()
    return await done
  }

  /** Drops what still waits (the LFN stays locatable by its earlier record). */
  stop (): void {
    this.controller.abort()
    if (this.pending.size > 0) this.init.log('%d LFN record update(s) not announced before stop', this.pending.size)
    for (const p of this.pending.values()) p.resolve()
    this.pending.clear()
  }

  /**
   * Waits for quiet (the preparation that queued the first update was
   * foreground work, so the quiet counts from now) or for the oldest
   * update's deadline, then announces oldest first while the node stays
   * idle; busy again, it waits again.
   */
  private async drain (): Promise<void> {
    const { init } = this
    let quiet = false
    try {
      for (let oldest = this.first(); oldest !== undefined; oldest = this.first()) {
        if (!quiet) {
          await waitForQuiet({
            busy: init.busy,
            quietMs: init.quietMs ?? ANNOUNCE_QUIET_MS,
            until: oldest.since + (init.maxDelayMs ?? ANNOUNCE_MAX_DELAY_MS),
            pollMs: init.pollMs ?? POLL_MS,
            signal: this.controller.signal
          })
        }
        const next = this.first()
        if (next === undefined) return
        this.pending.delete(next.input.lfn)
        await init.publish(next.input).catch((err: unknown) => {
          init.log('announcing %s failed for now: %s', next.input.lfn, (err as Error).name)
        })
        next.resolve()
        quiet = !init.busy()
      }
    } catch {
      // Stopped while waiting: stop() has settled what waits.
    } finally {
      // Cleared before this drain settles, so an update added from now on starts the next one.
      this.draining = undefined
    }
  }

  private first (): Pending<T> | undefined {
    return this.pending.values().next().value
  }
}
