/** Shared helpers of the payload tests. */
import fc from 'fast-check'
import { openPayload, sealPayload } from '../../../src/privacy/payload/index.js'
import type { PayloadDescriptor, SealedChunk, SealedPayload } from '../../../src/privacy/payload/index.js'

/** A chunk size and a payload of 0 to a few chunks of it. */
export const payloadArb = fc.integer({ min: 1, max: 96 }).chain(chunkSize =>
  fc.record({ chunkSize: fc.constant(chunkSize), data: fc.uint8Array({ maxLength: chunkSize * 4 + 7 }) }))

/** As `payloadArb`, with at least `n` chunks. */
export function payloadWithChunks (n: number): fc.Arbitrary<{ chunkSize: number, data: Uint8Array }> {
  return fc.integer({ min: 1, max: 64 }).chain(chunkSize =>
    fc.record({ chunkSize: fc.constant(chunkSize), data: fc.uint8Array({ minLength: chunkSize * (n - 1) + 1, maxLength: chunkSize * (n + 2) }) }))
}

export const FILE = { fileId: 'lfn:3f9a1c', version: 1 }

export async function seal (data: Uint8Array, chunkSize: number, dataKey: Uint8Array, file = FILE): Promise<SealedPayload> {
  return await sealPayload(data, dataKey, { ...file, chunkSize })
}

/** The error name `fn` rejects with, or 'resolved'. */
export async function failure (fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn()
    return 'resolved'
  } catch (err) {
    return (err as Error).name
  }
}

export async function openName (chunks: SealedChunk[], dataKey: Uint8Array, descriptor: PayloadDescriptor): Promise<string> {
  return await failure(async () => await openPayload(chunks, dataKey, descriptor))
}

/** Renumbers chunks 0..n-1 in their new order, as an attacker hiding a reorder or a drop would. */
export function relabel (chunks: SealedChunk[]): SealedChunk[] {
  return chunks.map((c, index) => ({ ...c, index }))
}
