/**
 * `/dm2/revocations/1.0.0`: pushing certificate revocations between hospital
 * nodes (issue 5, "a revoked certificate stops working everywhere within one
 * push round"). A node that learns a new revocation pushes it to its connected
 * members; each receiver verifies it offline (signed record + proof chain,
 * src/sac/revocation-store.ts), stores it durably and forwards it once. New
 * connections sync the whole set. Not done yet: publishing revocations to the
 * DHT as well.
 *
 * @example
 * ```ts
 * const revocations = await RevocationStore.open({ db: db.sublevel('revocations', { valueEncoding: 'view' }) })
 * const libp2p = await createLibp2p({
 *   // … transports, encrypters, muxers, connection gater …
 *   services: { revocations: revocationPush({ store: revocations }) }
 * })
 * const ac = accessControl({ serverPeer: libp2p.peerId.toString(), revocations })
 * // An issuer in a chain revokes, on any node:
 * const { notice } = createRevocation({ chain: [root, child], reason: 'privilege-withdrawn' }, doctor)
 * await libp2p.services.revocations.publish(notice)   // { fresh: true, peers: 3, delivered: 3 }
 * ```
 */
import { RevocationPushService, type RevocationPush, type RevocationPushComponents, type RevocationPushInit } from './service.js'

export function revocationPush (init: RevocationPushInit): (components: RevocationPushComponents) => RevocationPush {
  return (components) => new RevocationPushService(components, init)
}

export * from './constants.js'
export type { RevocationPush, RevocationPushComponents, RevocationPushInit } from './service.js'
export type { ResultFrame } from './frames.js'
export type * from './types.js'
export { revocationControlHandlers } from './control.js'
