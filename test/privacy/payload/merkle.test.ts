/** RFC 6962 Merkle tree: the Certificate Transparency reference vectors, and proofs for many sizes. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { inclusionProof, leafHash, merkleRoot, verifyInclusion } from '../../../src/privacy/payload/index.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

// RFC 6962 test data (certificate-transparency merkle_tree_test), leaves and roots of sizes 0..8.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex)
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'
]

describe('RFC 6962 Merkle tree', () => {
  it('matches the reference roots for sizes 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(hex(merkleRoot(LEAVES.slice(0, n))), `size ${n}`).toBe(ROOTS[n])
    expect(hex(leafHash(new Uint8Array(0)))).toBe(ROOTS[1])
  })

  it('gives the reference audit paths', () => {
    expect(inclusionProof(LEAVES, 0).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'
    ])
    expect(inclusionProof(LEAVES, 5).map(hex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'
    ])
  })

  it('every leaf proof verifies in every tree size; a wrong leaf, index, path or root does not', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (size, at) => {
      const leaves = Array.from({ length: size }, (_, i) => Uint8Array.of(i, i * 7 & 255))
      const root = merkleRoot(leaves)
      const i = at % size
      const proof = inclusionProof(leaves, i)
      expect(verifyInclusion(leaves[i] as Uint8Array, i, size, proof, root)).toBe(true)
      expect(verifyInclusion(Uint8Array.of(255, 255, 255), i, size, proof, root)).toBe(false)
      expect(verifyInclusion(leaves[i] as Uint8Array, i, size, proof, leafHash(root))).toBe(false)
      if (size > 1) {
        const j = (i + 1) % size
        expect(verifyInclusion(leaves[i] as Uint8Array, j, size, proof, root)).toBe(false)
        expect(verifyInclusion(leaves[i] as Uint8Array, i, size, proof.slice(1), root)).toBe(false)
        expect(verifyInclusion(leaves[i] as Uint8Array, i, size, [...proof, root], root)).toBe(false)
      }
    }), { numRuns: 200 })
  })

  it('a leaf can never pass for a node (domain separation)', () => {
    const a = new Uint8Array(32).fill(1)
    const b = new Uint8Array(32).fill(2)
    const root = merkleRoot([a, b])
    // A one-leaf tree whose leaf is the concatenated children must not collide with the two-leaf root.
    expect(hex(merkleRoot([new Uint8Array([...leafHash(a), ...leafHash(b)])]))).not.toBe(hex(root))
  })
})
