/**
 * Content ids as CIDv1 for DHT provider records (multiformats). The Merkle
 * root is itself SHA-256(0x01 ‖ left ‖ right) of the root node (or
 * SHA-256(0x00 ‖ id) for a one-chunk payload), so using it directly as a
 * sha2-256 multihash under the `raw` codec (0x55) names real bytes truthfully
 * and needs no second hash. A chunk id likewise is the sha2-256 of the
 * chunk's sealed bytes, so a chunk's CID is the usual raw-block CID.
 */
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { HASH_BYTES } from './constants.js'
import { PayloadParameterError } from './errors.js'

function toCid (digest: Uint8Array, field: string): CID {
  if (!(digest instanceof Uint8Array) || digest.length !== HASH_BYTES) throw new PayloadParameterError(field, `must be ${HASH_BYTES} bytes`)
  return CID.createV1(raw.code, Digest.create(sha256.code, new Uint8Array(digest)))
}

/** CIDv1(raw, sha2-256 = Merkle root). Its `multihash.bytes` is the DHT provider key. */
export function contentIdToCid (merkleRoot: Uint8Array): CID {
  return toCid(merkleRoot, 'merkleRoot')
}

/** CIDv1(raw, sha2-256 = chunk id). */
export function chunkIdToCid (chunkId: Uint8Array): CID {
  return toCid(chunkId, 'chunkId')
}

/** The 32-byte digest back from a CID made by `contentIdToCid`/`chunkIdToCid`; throws on any other CID. */
export function cidToDigest (cid: CID): Uint8Array {
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== sha256.code || cid.multihash.digest.length !== HASH_BYTES) {
    throw new PayloadParameterError('cid', 'not a CIDv1 raw sha2-256 content id')
  }
  return new Uint8Array(cid.multihash.digest)
}
