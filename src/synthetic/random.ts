/**
 * Deterministic randomness: a seeded PRNG for choices (names, shuffles), a
 * stateless per-voxel hash for noise (so a voxel's value does not depend on
 * the order slices are produced in), and UIDs under the "2.25" root.
 */
import { createHash, randomBytes } from 'node:crypto'

/** A seed as given by the caller; strings and numbers are both hashed to 32 bits. */
export type Seed = number | string

export function seed32 (seed: Seed, label = ''): number {
  const digest = createHash('sha256').update(`${String(seed)}\u0000${label}`).digest()
  return digest.readUInt32LE(0)
}

/** sfc32-style small fast PRNG, uniform in [0, 1). */
export function prng (seed: Seed, label = ''): () => number {
  let a = seed32(seed, label + ':a')
  let b = seed32(seed, label + ':b')
  let c = seed32(seed, label + ':c')
  let d = 1
  return () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

/** 32-bit integer hash (lowbias32 by C. Wellons): good avalanche, cheap. */
function mix (x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}

/**
 * A standard normal deviate that depends only on (key, i, j, k): Box–Muller
 * over two hashed uniforms.
 */
export function gaussianAt (key: number, i: number, j: number, k: number): number {
  const h1 = mix(key ^ mix(i + mix(j + mix(k))))
  const h2 = mix(h1 ^ 0x9e3779b9)
  const u1 = (h1 + 1) / 4294967297
  const u2 = h2 / 4294967296
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/**
 * A UID "2.25.<decimal of 128 bits>" (PS3.5 §B.2: UUID-derived UID). With a
 * seed the value is SHA-256(seed, label), so the same seed and label always
 * give the same UID; without, 128 random bits.
 */
export function uid (seed: Seed | undefined, label: string): string {
  const bytes = seed === undefined
    ? randomBytes(16)
    : createHash('sha256').update(`uid\u0000${String(seed)}\u0000${label}`).digest().subarray(0, 16)
  return `2.25.${BigInt('0x' + bytes.toString('hex')).toString(10)}`
}

/** Fisher–Yates shuffle of a copy, driven by `next`. */
export function shuffled<T> (items: readonly T[], next: () => number): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const tmp = out[i] as T
    out[i] = out[j] as T
    out[j] = tmp
  }
  return out
}
