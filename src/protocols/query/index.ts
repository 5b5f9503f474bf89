/**
 * `/dm2/query/1.0.0`: the federated metadata query (paper §4.5, DM² issue 7).
 * A requester sends one query (a canonical AST of src/query) to every site
 * offering metadata service; each site evaluates it over its own series under
 * the requester's certificate chain and returns only what that chain covers —
 * descriptive fields always, identifying ones (PS3.15 Annex E Table E.1-1)
 * only for an identified query under a `meta/read-identified` right. The
 * requester merges the answers by LFN and lists the sites that failed.
 *
 * - `server.ts` — the handler: AST validated, one audited access check per
 *   request (the invocation is single-use), then a bounded scan.
 * - `coverage.ts` — the witness descriptor for that check, and the per-record
 *   resource rule of `AccessControl` (pure).
 * - `wire.ts` — messages (JSON AST and results inside the CBOR frame: CBOR
 *   here has no floats), strict checks both ways, `queryArguments`.
 * - `fan-out.ts` — parallel asks, per-site timeout, merge, `partial`.
 *
 * @example
 * ```ts
 * const services = {
 *   query: metadataQuery({
 *     access,                         // the node's AccessControl
 *     custodian: site.publicKey,      // root of the certificates for this site's data
 *     records: () => registryRecords() // AsyncIterable<QueryRecord>
 *   })
 * }
 * const { results, partial } = await libp2p.services.query.fanOut({
 *   sites: rosterPeers,
 *   query: 'modality = "MR" AND bodyPart = "HEART"',
 *   limit: 100,
 *   timeoutMs: 5000,
 *   auth: (peer, args) => wallet.authorization(chainFor(peer), { audience: peer.toString(), origin: self, command: 'query', args })
 * })
 * // results: [{ lfn, fields: { modality: 'MR', … }, sites: ['12D3…'] }], partial: [{ peer, reason: 'TIMEOUT' }]
 * ```
 */
import { MetadataQueryService } from './service.js'
import type { MetadataQuery, MetadataQueryComponents, MetadataQueryInit } from './types.js'

export * from './constants.js'
export * from './errors.js'
export type * from './types.js'
export { covers, witnessOf } from './coverage.js'
export { fanOut, type AskFn } from './fan-out.js'
export { canonicalText, queryArguments } from './wire.js'

export function metadataQuery (init: MetadataQueryInit): (components: MetadataQueryComponents) => MetadataQuery {
  return (components) => new MetadataQueryService(components, init)
}
