/**
 * `/dm2/chunks/1.0.0`: moving encrypted chunks between hospital nodes.
 * A request carries the requester's invocation and certificate chain, a
 * content id and the wanted chunk indexes; the server checks access before
 * reading anything, then streams the chunks it holds. The fetching side pulls
 * from the master and replicas at once and verifies every chunk's hash.
 *
 * @example
 * ```ts
 * const libp2p = await createLibp2p({
 *   // … transports, encrypters, muxers …
 *   services: { chunks: chunkTransfer({ store, authorize }) }
 * })
 * const result = await libp2p.services.chunks.fetch({
 *   contentId, chunks: manifest.chunks, sources: [master, replica], sink, auth: peer => invocationFor(peer)
 * })
 * ```
 */
import { ChunkTransferService, type ChunkTransfer, type ChunkTransferComponents, type ChunkTransferInit } from './chunk-transfer.js'

export function chunkTransfer (init: ChunkTransferInit): (components: ChunkTransferComponents) => ChunkTransfer {
  return (components) => new ChunkTransferService(components, init)
}

export * from './constants.js'
export * from './errors.js'
export type { ChunkTransfer, ChunkTransferInit, ChunkTransferComponents, FetchOptions } from './chunk-transfer.js'
export type { FetchChunksResult, SourceReport, DropReason } from './fetch.js'
export type { ChunkServerStats } from './server.js'
export { openReader } from './server.js'
export { sendChunks, type SentChunks } from './send.js'
export { receiveChunks, type ReceiveInit } from './fetch-batch.js'
export type * from './types.js'
