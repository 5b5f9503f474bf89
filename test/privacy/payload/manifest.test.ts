import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import {
  MANIFEST_SIGNING_CONTEXT, MAX_MANIFEST_BYTES, buildManifest, cidToDigest, contentId, contentIdToCid, decodeManifest,
  encodeManifest, encodeSignedManifest, generateDataKey, generateEd25519Signer, libp2pSigner, manifestSigningInput,
  merkleRoot, signManifest, verifySignedManifest
} from '../../../src/privacy/payload/index.js'
import type { Manifest, ManifestSigner } from '../../../src/privacy/payload/index.js'
import { failure, seal } from './helpers.js'

const identity = await generateKeyPair('Ed25519')
const MASTER = peerIdFromPrivateKey(identity).toString()
const signer = libp2pSigner(identity)

async function sampleManifest (size = 1000, chunkSize = 256): Promise<Manifest> {
  const s = await seal(new Uint8Array(size).fill(9), chunkSize, generateDataKey())
  return buildManifest({ layout: s.layout, chunks: s.refs, deidProfile: 'ps3.15-e1-basic', master: MASTER, createdAt: 1_700_000_000_000 })
}

const manifest = await sampleManifest()
const signed = await signManifest(manifest, signer)
const wire = encodeSignedManifest(signed)

/** Wraps arbitrary manifest bytes with the original signature. */
function rewrap (manifestBytes: Uint8Array): Uint8Array {
  return encode({ manifest: manifestBytes, signature: signed.signature }, rfc8949EncodeOptions)
}

const MANIFEST_ERRORS = ['ManifestDecodeError', 'ManifestInvalidError', 'ManifestSignatureError']

describe('manifest encoding', () => {
  it('round-trips through deterministic CBOR', async () => {
    const bytes = encodeManifest(manifest)
    const back = decodeManifest(bytes)
    expect(back).toEqual({ ...manifest })
    expect(encodeManifest(back)).toEqual(bytes)
    expect(contentId(back)).toEqual(merkleRoot(manifest.chunks.map(c => c.id)))
    expect(await verifySignedManifest(wire)).toEqual(back)
  })

  it('refuses non-canonical encodings of the same content', async () => {
    const bytes = encodeManifest(manifest)
    const raw = decode(bytes) as Record<string, unknown>
    // Reverse key order.
    const reversed = encode(raw, { mapSorter: (a, b) => rfc8949EncodeOptions.mapSorter?.(b, a) ?? 0 })
    expect(await failure(async () => decodeManifest(reversed))).toBe('ManifestDecodeError')
    // A non-shortest integer: 'v' (0x61 0x76) 1 written as 0x18 0x01.
    const at = Buffer.from(bytes).indexOf(Buffer.from([0x61, 0x76, 0x01]))
    expect(at).toBeGreaterThan(0)
    const long = new Uint8Array([...bytes.subarray(0, at + 2), 0x18, 0x01, ...bytes.subarray(at + 3)])
    expect(await failure(async () => decodeManifest(long))).toBe('ManifestDecodeError')
    // An integer written as a float.
    const floaty = encode({ ...raw, createdAt: 1.5 }, rfc8949EncodeOptions)
    expect(await failure(async () => decodeManifest(floaty))).toBe('ManifestInvalidError')
    // Trailing bytes, extra or missing keys.
    expect(await failure(async () => decodeManifest(new Uint8Array([...bytes, 0])))).toBe('ManifestDecodeError')
    expect(await failure(async () => decodeManifest(encode({ ...raw, extra: 1 }, rfc8949EncodeOptions)))).toBe('ManifestDecodeError')
    const { salt: _salt, ...missing } = raw
    expect(await failure(async () => decodeManifest(encode(missing, rfc8949EncodeOptions)))).toBe('ManifestDecodeError')
    // Oversized input is refused before decoding.
    expect(await failure(async () => decodeManifest(new Uint8Array(MAX_MANIFEST_BYTES + 1)))).toBe('ManifestDecodeError')
  })

  it('refuses inconsistent manifests when building', async () => {
    const s = await seal(new Uint8Array(600), 256, generateDataKey())
    const init = { layout: s.layout, chunks: s.refs, deidProfile: 'p', master: MASTER }
    expect(buildManifest(init).chunks).toHaveLength(3)
    expect(await failure(async () => buildManifest({ ...init, chunks: s.refs.slice(1) }))).toBe('ManifestInvalidError')
    expect(await failure(async () => buildManifest({ ...init, chunks: s.refs.map(r => ({ ...r, size: r.size + 1 })) }))).toBe('ManifestInvalidError')
    expect(await failure(async () => buildManifest({ ...init, deidProfile: '' }))).toBe('ManifestInvalidError')
    expect(await failure(async () => buildManifest({ ...init, master: 'a b' }))).toBe('ManifestInvalidError')
  })
})

/** For each manifest key, a different value of any type. */
function mutation (raw: Record<string, unknown>): fc.Arbitrary<{ key: string, value: unknown } | { drop: string } | { add: string }> {
  const keys = Object.keys(raw)
  const chunks = raw.chunks as Array<[Uint8Array, number]>
  const chunkMutation = fc.oneof(
    fc.record({ i: fc.nat(chunks.length - 1), byte: fc.nat(31), bit: fc.nat(7) }).map(({ i, byte, bit }) =>
      chunks.map((c, j) => j === i ? [c[0].map((b, k) => k === byte ? b ^ (1 << bit) : b), c[1]] : c)),
    fc.nat(chunks.length - 1).map(i => chunks.filter((_, j) => j !== i)),
    fc.nat(chunks.length - 1).map(i => [...chunks, chunks[i]]),
    fc.nat(chunks.length - 2).map(i => chunks.map((c, j) => j === i ? chunks[i + 1] : j === i + 1 ? chunks[i] : c)),
    fc.record({ i: fc.nat(chunks.length - 1), d: fc.integer({ min: -3, max: 3 }).filter(d => d !== 0) }).map(({ i, d }) =>
      chunks.map((c, j) => j === i ? [c[0], c[1] + d] : c))
  )
  const anyValue = fc.oneof(fc.integer(), fc.string(), fc.uint8Array({ maxLength: 40 }), fc.boolean(), fc.constant(null))
  return fc.oneof(
    fc.constantFrom(...keys).chain(key => {
      const v = raw[key]
      const sameType = typeof v === 'number'
        ? fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
        : typeof v === 'string'
          ? fc.string({ minLength: 1, maxLength: 20 })
          : v instanceof Uint8Array
            ? fc.nat(v.length * 8 - 1).map(bit => v.map((b, k) => k === bit >> 3 ? b ^ (1 << (bit & 7)) : b))
            : chunkMutation
      return fc.oneof(sameType, anyValue).map(value => ({ key, value }))
    }),
    fc.constantFrom(...keys).map(drop => ({ drop })),
    fc.string({ minLength: 1, maxLength: 8 }).filter(k => !keys.includes(k)).map(add => ({ add }))
  )
}

describe('manifest signature', () => {
  it('a manifest with any altered field fails verification', async () => {
    const raw = decode(signed.bytes) as Record<string, unknown>
    await fc.assert(fc.asyncProperty(mutation(raw), async (m) => {
      const altered = { ...raw }
      if ('key' in m) {
        fc.pre(JSON.stringify(encode([m.value])) !== JSON.stringify(encode([raw[m.key]])))
        altered[m.key] = m.value
      } else if ('drop' in m) {
        delete altered[m.drop]
      } else {
        altered[m.add] = 1
      }
      const forged = rewrap(encode(altered, rfc8949EncodeOptions))
      expect(MANIFEST_ERRORS).toContain(await failure(async () => await verifySignedManifest(forged)))
      expect(MANIFEST_ERRORS).toContain(await failure(async () => await verifySignedManifest(forged, { publicKey: signer.publicKey })))
    }), { numRuns: 300 })
  })

  it('a consistent but altered manifest fails on its signature alone', async () => {
    for (const change of [{ createdAt: manifest.createdAt + 1 }, { deidProfile: 'none' }, { version: 2 }, { fileId: 'lfn:other' }]) {
      const bytes = encodeManifest({ ...manifest, ...change })
      expect(await failure(async () => await verifySignedManifest(rewrap(bytes)))).toBe('ManifestSignatureError')
    }
  })

  it('flipping any bit of the signed manifest fails with a typed error', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(wire.length * 8 - 1), async (bit) => {
      const flipped = wire.map((b, k) => k === bit >> 3 ? b ^ (1 << (bit & 7)) : b)
      expect(MANIFEST_ERRORS).toContain(await failure(async () => await verifySignedManifest(flipped)))
    }), { numRuns: 200 })
  })

  it('fails for another signer, another master, or a master that is not the signer', async () => {
    const other = generateEd25519Signer().signer
    expect(await failure(async () => await verifySignedManifest(wire, { publicKey: other.publicKey }))).toBe('ManifestSignatureError')
    expect(await failure(async () => await verifySignedManifest(wire, { expectedMaster: 'site-b' }))).toBe('ManifestSignatureError')
    const byOther = encodeSignedManifest(await signManifest(manifest, other))
    expect(await failure(async () => await verifySignedManifest(byOther))).toBe('ManifestSignatureError')
    expect(await verifySignedManifest(byOther, { publicKey: other.publicKey })).toEqual(manifest)
    // A master that is not an Ed25519 peer id needs an explicit key.
    const named = await sampleManifest()
    const namedWire = encodeSignedManifest(await signManifest({ ...named, master: 'site-a' }, other))
    expect(await failure(async () => await verifySignedManifest(namedWire))).toBe('ManifestSignatureError')
    expect((await verifySignedManifest(namedWire, { publicKey: other.publicKey, expectedMaster: 'site-a' })).master).toBe('site-a')
  })

  it('signs context ‖ 0x00 ‖ bytes, through an injectable signer', async () => {
    const secret = Buffer.from('k')
    const seen: Uint8Array[] = []
    const hmacSigner: ManifestSigner = { publicKey: new Uint8Array(0), sign: (m) => { seen.push(m); return createHmac('sha256', secret).update(m).digest() } }
    const verify = (m: Uint8Array, sig: Uint8Array): boolean => Buffer.from(sig).equals(createHmac('sha256', secret).update(m).digest())
    const s = await signManifest(manifest, hmacSigner)
    expect(Buffer.from(seen[0] as Uint8Array).subarray(0, MANIFEST_SIGNING_CONTEXT.length + 1).toString('latin1')).toBe(`${MANIFEST_SIGNING_CONTEXT}\u0000`)
    expect(seen[0]).toEqual(manifestSigningInput(s.bytes))
    expect(await verifySignedManifest(encodeSignedManifest(s), { publicKey: new Uint8Array(0), verify })).toEqual(manifest)
    const forged = encodeSignedManifest({ ...s, bytes: encodeManifest({ ...manifest, createdAt: 1 }) })
    expect(await failure(async () => await verifySignedManifest(forged, { publicKey: new Uint8Array(0), verify }))).toBe('ManifestSignatureError')
  })
})

describe('content id as CID', () => {
  it('is a CIDv1 raw sha2-256 whose digest is the Merkle root', () => {
    const cid = contentIdToCid(manifest.merkleRoot)
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(cid.multihash.digest).toEqual(manifest.merkleRoot)
    expect(cid.toString()).toMatch(/^bafkrei[a-z2-7]{52}$/)
    expect(cidToDigest(CID.parse(cid.toString()))).toEqual(manifest.merkleRoot)
    expect(() => contentIdToCid(new Uint8Array(31))).toThrow(expect.objectContaining({ name: 'PayloadParameterError' }))
  })
})
