/**
 * Read-only replicas of other sites' LFN versions (DSE² replica manager).
 *
 * - `ReplicaStore`: sealed chunks + the master's signed manifest on disk,
 *   ciphertext only, indexed in LevelDB, atomic commits; a ChunkStore, so the
 *   node serves replica chunks over `/dm2/chunks/1.0.0` too.
 * - `replicateService`: `/dm2/replicate/1.0.0`, a master asks a storage site
 *   to hold a replica; the site checks the master, pulls the chunks from the
 *   master and existing holders, commits and provides the content id.
 * - Replication tickets (`ticket.ts`): the master-signed site-level chunk
 *   authorization of a replication; `ticketAuthorizer` is the chunk
 *   authorizer step that accepts them.
 * - `ReplicaManager`: keeps `replicationFactor` replicas per mastered LFN on
 *   distinct storage sites, chosen by RTT; re-replicates when a holder is
 *   gone longer than the grace period; ranks sources for readers.
 * - `sweepReplicas`: drops replicas superseded by a newer master version or
 *   whose LFN record expired.
 *
 * @example
 * ```ts
 * const store = await ReplicaStore.open(join(dataDir, 'replicas'), db.sublevel('replicas', { valueEncoding: 'view' }))
 * const tickets = ticketAuthorizer({ isStorage, masterOf: async cid => store.entryOf(cid)?.master })
 * // services: { replicate: replicateService({ store, isMember, isStorage, fetch: o => libp2p.services.chunks.fetch(o), provide }) }
 * const manager = new ReplicaManager({ peerId, privateKey, storageSites, mastered, findHolders, replicate, ping, log })
 * manager.start()
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export { ReplicaStore, type ReplicaDb, type ReplicaDbOp, type ReplicaEntry } from './store.js'
export { replicateService, parseReplicateRequest, type Replicate, type ReplicateInit, type ReplicateComponents, type ReplicateRequest, type ReplicateResult } from './protocol.js'
export { signTicket, openTicket, isTicket, ticketAuthorizer, type Ticket, type TicketCheck, type TicketDecision } from './ticket.js'
export { ReplicaManager, type ReplicaManagerInit, type MasteredVersion, type EnsureReport } from './manager.js'
export { Liveness, plan, rankByRtt, type Placement, type PlacementInput } from './placement.js'
export { sweepReplicas, type SweepInit, type SweepReport, type CurrentVersion } from './invalidate.js'
export { unionChunkStore, replicaResource } from './serve.js'
export { replicaControlHandlers, type ReplicaControlInit, type LocateResult } from './control.js'
