/**
 * The replica manager on a node's control channel (see src/audit/control.ts):
 * `replicas.locate` `{ lfn }` → master, version, content id and holders
 * ordered by measured RTT; `replicas.replicate` `{ lfn, to }` → one replica
 * of this site's current version of `lfn` on storage site `to` (a peer id).
 */
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { ControlHandler } from '../control/index.js'
import { contentIdToCid } from '../privacy/payload/index.js'
import { MAX_LFN_LENGTH } from './constants.js'
import { ReplicaParamsError } from './errors.js'
import type { CurrentVersion } from './invalidate.js'
import type { ReplicaManager } from './manager.js'

export interface LocateResult {
  lfn: string
  master: string
  version: number
  contentId: string
  holders: Array<{ peer: string, rttMs?: number, master: boolean }>
}

export interface ReplicaControlInit {
  manager: ReplicaManager
  resolve: (lfn: string, options?: AbortOptions) => Promise<CurrentVersion>
  findHolders: (contentId: Uint8Array, options?: AbortOptions) => Promise<PeerId[]>
}

function stringParam (params: unknown, name: string, max: number): string {
  const value = params !== null && typeof params === 'object' ? (params as Record<string, unknown>)[name] : undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new ReplicaParamsError(`${name} must be a string of 1…${max} characters`)
  return value
}

export function replicaControlHandlers (init: ReplicaControlInit): Record<string, ControlHandler> {
  return {
    'replicas.locate': async (params, { signal }): Promise<LocateResult> => {
      const lfn = stringParam(params, 'lfn', MAX_LFN_LENGTH)
      const record = await init.resolve(lfn, { signal })
      const found = await init.findHolders(record.contentId, { signal }).catch(() => [])
      const ranked = await init.manager.rankSources(found, { signal })
      const holders = await Promise.all(ranked.map(async p => {
        const rttMs = await init.manager.measure(p.toString(), { signal })
        return { peer: p.toString(), master: p.toString() === record.master, ...(rttMs === undefined ? {} : { rttMs }) }
      }))
      return { lfn, master: record.master, version: record.version, contentId: contentIdToCid(record.contentId).toString(), holders }
    },
    'replicas.replicate': async (params, { signal }) => {
      const lfn = stringParam(params, 'lfn', MAX_LFN_LENGTH)
      const to = stringParam(params, 'to', 128)
      return await init.manager.replicateTo(lfn, to, { signal })
    }
  }
}
