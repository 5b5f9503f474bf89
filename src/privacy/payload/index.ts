/**
 * The encrypted payload: what leaves a hospital for an LFN version.
 *
 * - A random 32-byte data key per LFN (`generateDataKey`), never derived from
 *   content (no convergent encryption).
 * - The plaintext cut into fixed chunks (1 MiB by default), each sealed with
 *   AES-256-GCM under an HKDF-SHA-256 key bound to the file id and version,
 *   nonce = chunk index + last-chunk flag (STREAM), associated data = file id,
 *   version, index, total: truncation, reordering, duplication and splicing
 *   between files all fail with typed errors (`errors.ts`).
 * - Each chunk addressed by SHA-256 of its sealed bytes; no plaintext hash
 *   is ever computed or exposed.
 * - A deterministic-CBOR manifest (chunk ids and sizes, RFC 6962 Merkle root =
 *   content id, de-identification profile, master peer id), signed by the
 *   master through an injectable signer (Ed25519 by default).
 * - The data key wrapped to one recipient's X25519 key with HPKE (RFC 9180).
 *
 * Streaming functions hold one chunk at a time (bounded memory); the in-memory
 * ones are for small payloads and tests.
 *
 * @example
 * ```ts
 * import {
 *   generateDataKey, sealStream, openStream, buildManifest, signManifest, encodeSignedManifest,
 *   verifySignedManifest, generateEd25519Signer, generateRecipientKeyPair, wrapDataKey, unwrapDataKey,
 *   contentIdToCid
 * } from './src/privacy/payload/index.js'
 *
 * const volume = new Uint8Array(3_000_000)               // a de-identified NIfTI, say
 * const dataKey = generateDataKey()
 * const sealer = sealStream([volume], dataKey, { fileId: 'lfn-1', version: 1, totalSize: volume.length })
 * const stored = []
 * for await (const chunk of sealer.chunks) stored.push(chunk) // store under chunk.id
 *
 * const { signer } = generateEd25519Signer()
 * const manifest = buildManifest({ layout: sealer.layout, chunks: sealer.refs, deidProfile: 'ps3.15-basic', master: 'site-a' })
 * const wire = encodeSignedManifest(await signManifest(manifest, signer))
 * console.log(contentIdToCid(manifest.merkleRoot).toString())  // the DHT provider key
 *
 * const recipient = generateRecipientKeyPair()
 * const wrapped = await wrapDataKey(dataKey, recipient.publicKey, { fileId: 'lfn-1', version: 1 })
 *
 * // At the requester:
 * const verified = await verifySignedManifest(wire, { publicKey: signer.publicKey, expectedMaster: 'site-a' })
 * const key = await unwrapDataKey(wrapped, recipient.privateKey, verified)
 * let n = 0
 * for await (const piece of openStream(stored, key, verified)) n += piece.length
 * console.log(n === volume.length)
 * ```
 * (Run it with `npx tsx` from the project root.)
 */
export * from './constants.js'
export * from './errors.js'
export { generateDataKey, chunkId, ChunkCipher, ChunkSealing } from './cipher.js'
export { newLayout, chunkCount, plainChunkSize, sealedChunkSize } from './layout.js'
export type { PayloadLayout, LayoutOptions } from './layout.js'
export { sealStream, openStream } from './stream.js'
export type { SealedChunk, ReceivedChunk, ChunkRef, PayloadDescriptor, PayloadProgress, StreamOptions, SealOptions, Sealer, Source } from './stream.js'
export { sealPayload, openPayload } from './memory.js'
export type { SealPayloadOptions, SealedPayload } from './memory.js'
export { merkleRoot, leafHash, nodeHash, inclusionProof, verifyInclusion } from './merkle.js'
export { buildManifest, validateManifest, encodeManifest, decodeManifest, contentId } from './manifest.js'
export type { Manifest, BuildManifestInit } from './manifest.js'
export {
  signManifest, encodeSignedManifest, verifySignedManifest, decodeOwnSignedManifest, manifestSigningInput, ed25519Signer, ed25519Verify,
  generateEd25519Signer, libp2pSigner, publicKeyFromPeerId
} from './signing.js'
export type { ManifestSigner, ManifestVerify, SignedManifest, VerifyManifestOptions } from './signing.js'
export { contentIdToCid, chunkIdToCid, cidToDigest } from './cid.js'
export { wrapDataKey, unwrapDataKey } from './keywrap.js'
export type { WrapContext } from './keywrap.js'
export { generateRecipientKeyPair, recipientPublicKey, writePrivateKeyFile, readPrivateKeyFile } from './keys.js'
export type { KeyType, RecipientKeyPair } from './keys.js'
