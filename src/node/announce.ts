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
