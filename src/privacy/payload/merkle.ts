/**
 * Merkle Tree Hash of RFC 6962 §2.1 (unchanged in RFC 9162 §2.1.1) over the
 * chunk ids, with its domain-separated prefixes: leaf = SHA-256(0x00 ‖ d),
 * node = SHA-256(0x01 ‖ left ‖ right), so a leaf can never pass for a node.
 * Its root is the payload's content id. Inclusion proofs let a peer check one
 * chunk id against the root without the whole chunk list.
 */
import { createHash } from 'node:crypto'
import { HASH_BYTES } from './constants.js'
import { equalBytes } from './bytes.js'

function sha256 (...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  const d = h.digest()
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
}

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)

export function leafHash (data: Uint8Array): Uint8Array {
  return sha256(LEAF, data)
}

export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE, left, right)
}

/** Largest power of two strictly below n (n ≥ 2). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function subtreeRoot (hashes: Uint8Array[], from: number, to: number): Uint8Array {
  const n = to - from
  if (n === 1) return hashes[from] as Uint8Array
  const k = split(n)
  return nodeHash(subtreeRoot(hashes, from, from + k), subtreeRoot(hashes, from + k, to))
}

/** MTH(D[n]); the empty tree's root is SHA-256 of the empty string. */
export function merkleRoot (leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256()
  return subtreeRoot(leaves.map(leafHash), 0, leaves.length)
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index`. */
export function inclusionProof (leaves: Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} outside [0, ${leaves.length})`)
  const hashes = leaves.map(leafHash)
  const path: Uint8Array[] = []
  let from = 0
  let to = hashes.length
  let m = index
  while (to - from > 1) {
    const k = split(to - from)
    if (m < k) {
      path.push(subtreeRoot(hashes, from + k, to))
      to = from + k
    } else {
      path.push(subtreeRoot(hashes, from, from + k))
      from += k
      m -= k
    }
  }
  return path.reverse()
}

/** Verifies an audit path (RFC 9162 §2.1.3.2). */
export function verifyInclusion (leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  let fn = index
  let sn = size - 1
  let r = leafHash(leaf)
  for (const p of proof) {
    if (p.length !== HASH_BYTES || sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && equalBytes(r, root)
}
