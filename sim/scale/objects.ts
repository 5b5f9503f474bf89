/**
 * The content of a simulated LFN (pure): its content id as a CID, and the
 * record a publisher announces. Derived from the LFN alone, so publisher and
 * requester agree without exchanging anything.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { PublishLfnInput } from '../../src/dht/index.js'

/** Multicodec `raw` and multihash `sha2-256` (multiformats table). */
const RAW = 0x55
const SHA2_256 = 0x12

function sha256 (label: string, lfn: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`dm2/sim/scale/${label}/v1\0${lfn}`).digest())
}

/** The content id of the object named `lfn`. */
export function objectCid (lfn: string): CID {
  return CID.createV1(RAW, Digest.create(SHA2_256, sha256('content', lfn)))
}

/** What the publisher announces: version 1, a prepared content id, descriptive metadata only. */
export function objectRecord (lfn: string): PublishLfnInput {
  const cid = objectCid(lfn)
  return { lfn, version: 1, contentId: cid.bytes, manifestHash: sha256('manifest', lfn), meta: { modality: 'CT' }, cid }
}
