/**
 * Invalidation of replicas: a replica is of one LFN version; once the master
 * publishes a newer version (the LFN record says so) or the record has
 * expired (the master stopped republishing it), the replica is dropped.
 * Dropping removes only this site's replica — masters are never deleted
 * through the federation. Run it periodically at a storage site.
 */
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { ReplicaStore } from './store.js'

export interface CurrentVersion { master: string, version: number, contentId: Uint8Array }

export interface SweepInit {
  store: ReplicaStore
  /** The LFN's current record (`localization.resolveLfn(lfn, { fresh: true })`); throws `NotLocatedError` when none is valid. */
  resolve: (lfn: string, options?: AbortOptions) => Promise<CurrentVersion>
  log: Logger
}

export interface SweepReport { kept: string[], dropped: Array<{ lfn: string, version: number, why: 'superseded' | 'expired' }> }

export async function sweepReplicas (init: SweepInit, options: AbortOptions = {}): Promise<SweepReport> {
  const report: SweepReport = { kept: [], dropped: [] }
  for (const entry of init.store.list()) {
    options.signal?.throwIfAborted()
    let current: CurrentVersion | undefined
    try {
      current = await init.resolve(entry.lfn, options)
    } catch (err) {
      // Only a clear "no valid record" drops; a network error keeps the replica for the next sweep.
      if ((err as Error).name !== 'NotLocatedError') {
        report.kept.push(entry.lfn)
        continue
      }
    }
    const superseded = current !== undefined && current.master === entry.master && current.version > entry.version
    if (current === undefined || superseded) {
      await init.store.drop(entry.lfn)
      const why = current === undefined ? 'expired' : 'superseded'
      report.dropped.push({ lfn: entry.lfn, version: entry.version, why })
      init.log('dropped replica of %s v%d (%s)', entry.lfn, entry.version, why)
    } else {
      report.kept.push(entry.lfn)
    }
  }
  return report
}
