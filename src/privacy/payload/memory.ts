/** In-memory convenience over the streaming functions, for payloads that fit in memory. */
import { openStream, sealStream } from './stream.js'
import type { ChunkRef, PayloadDescriptor, SealedChunk, StreamOptions } from './stream.js'
import type { PayloadLayout } from './layout.js'

export interface SealPayloadOptions extends StreamOptions {
  fileId: string
  version: number
  chunkSize?: number
}

export interface SealedPayload {
  layout: PayloadLayout
  chunks: SealedChunk[]
  refs: ChunkRef[]
}

/** Seals a whole buffer. */
export async function sealPayload (plaintext: Uint8Array, dataKey: Uint8Array, options: SealPayloadOptions): Promise<SealedPayload> {
  const sealer = sealStream([plaintext], dataKey, { ...options, totalSize: plaintext.length })
  const chunks: SealedChunk[] = []
  for await (const chunk of sealer.chunks) chunks.push(chunk)
  return { layout: sealer.layout, chunks, refs: sealer.refs }
}

/** Opens chunks (in order) into one buffer; same checks and errors as `openStream`. */
export async function openPayload (chunks: Iterable<SealedChunk> | AsyncIterable<SealedChunk>, dataKey: Uint8Array, descriptor: PayloadDescriptor, options: StreamOptions = {}): Promise<Uint8Array> {
  // openStream validates the descriptor before anything is allocated.
  const pieces = openStream(chunks, dataKey, descriptor, options)
  const out = new Uint8Array(descriptor.totalSize)
  let at = 0
  for await (const piece of pieces) {
    out.set(piece, at)
    at += piece.length
  }
  return out
}
