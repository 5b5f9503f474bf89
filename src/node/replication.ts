/**
 * Replication at a hospital node: the manager that keeps `replicationFactor`
 * replicas of every image this site masters on storage sites, the periodic
 * sweep that drops replicas a newer master version made stale, and the
 * `dm2 locate` / `dm2 replicate` control commands.
 */
import type { Libp2pEvents, Logger, PeerId, PrivateKey, TypedEventTarget } from '@libp2p/interface'
import type { ControlHandler } from '../control/index.js'
import type { Localization } from '../dht/index.js'
import { contentIdToCid } from '../privacy/payload/index.js'
import {
  ReplicaManager, replicaControlHandlers, sweepReplicas, type ReplicaStore, type Replicate
} from '../replicas/index.js'
import type { DataPlane } from './data-plane.js'

/** How often stale replicas are looked for. */
const SWEEP_INTERVAL_MS = 10 * 60_000

export interface ReplicationInit {
  peerId: PeerId
  privateKey: PrivateKey
  replicationFactor: number
  storageSites: () => string[]
  dataPlane: DataPlane
  localization: Localization
  replicate: Replicate
  ping: (peer: PeerId) => Promise<number>
  events: TypedEventTarget<Libp2pEvents>
  controlHandlers: Record<string, ControlHandler>
  log: Logger
  /** How long a holder may be away before it is replaced, and how often the factor is checked (tests shorten them). */
  graceMs?: number
  reconcileMs?: number
}

export interface Replication {
  manager: ReplicaManager
  stop: () => Promise<void>
}

/** Starts replication. */
export function startReplication (init: ReplicationInit): Replication {
  const { localization, log } = init
  const manager = new ReplicaManager({
    peerId: init.peerId,
    privateKey: init.privateKey,
    replicationFactor: init.replicationFactor,
    storageSites: init.storageSites,
    mastered: async () => await init.dataPlane.mastered(),
    findHolders: async (cid, options) => await localization.findHolders(cid, options).catch(() => []),
    replicate: async (peer, request, options) => await init.replicate.request(peer, request, options),
    ping: async (peer) => await init.ping(peer),
    log,
    ...(init.graceMs === undefined ? {} : { graceMs: init.graceMs }),
    ...(init.reconcileMs === undefined ? {} : { reconcileMs: init.reconcileMs })
  })
  const onConnect = (e: CustomEvent<PeerId>): void => { manager.peerConnected(e.detail) }
  const onDisconnect = (e: CustomEvent<PeerId>): void => { manager.peerDisconnected(e.detail) }
  init.events.addEventListener('peer:connect', onConnect)
  init.events.addEventListener('peer:disconnect', onDisconnect)
  manager.start()
  const store = init.dataPlane.replicas as ReplicaStore
  const sweep = setInterval(() => {
    sweepReplicas({ store, resolve: async (lfn, o) => await localization.resolveLfn(lfn, { ...o, fresh: true }), log }).catch(err => { log('replica sweep failed: %s', (err as Error).name) })
  }, SWEEP_INTERVAL_MS)
  sweep.unref()
  Object.assign(init.controlHandlers, replicaControlHandlers({
    manager,
    resolve: async lfn => await localization.resolveLfn(lfn, { fresh: true }),
    findHolders: async (cid, o) => await localization.findHolders(contentIdToCid(cid), o)
  }))
  return {
    manager,
    stop: async () => {
      clearInterval(sweep)
      init.events.removeEventListener('peer:connect', onConnect)
      init.events.removeEventListener('peer:disconnect', onDisconnect)
      await manager.stop()
    }
  }
}
