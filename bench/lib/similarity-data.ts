/**
 * Data and reference loops of the similarity bench: phantom volumes → their
 * features; candidates = a base's thumbnail × a gain + noise (fast to make,
 * no two alike); and the plain loops computing each measure the simplest
 * way, buffers preallocated (the ceiling the engine is compared with).
 */
import { extractFeatures, type Features, type MeasureName } from '../../src/similarity/index.js'

export function xorshift (seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s / 4294967296
  }
}

/** Features of a 64×64×48 CT phantom: a body and four blobs, seeded. */
export function phantomFeatures (seed: number, size: number): Features {
  const r = xorshift(seed * 7919 + 1)
  const [nx, ny, nz] = [64, 64, 48]
  const blobs = Array.from({ length: 5 }, (_, b) => ({
    c: [r() * 40 - 20, r() * 40 - 20, r() * 30 - 15],
    rad: b === 0 ? [25 + r() * 15, 20 + r() * 15, 20 + r() * 15] : [4 + r() * 10, 4 + r() * 10, 4 + r() * 10],
    v: b === 0 ? 40 : [-600, -100, 200, 900][Math.floor(r() * 4)] as number
  }))
  const data = new Int16Array(nx * ny * nz)
  let n = 0
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = [(i - nx / 2) * 1.4, (j - ny / 2) * 1.4, (k - nz / 2) * 2]
        let v = -1000
        for (const b of blobs) {
          let d = 0
          for (let a = 0; a < 3; a++) d += (((p[a] as number) - (b.c[a] as number)) / (b.rad[a] as number)) ** 2
          if (d <= 1) v = b.v
        }
        data[n++] = v + Math.round((r() - 0.5) * 40)
      }
    }
  }
  return extractFeatures({
    data, dims: [nx, ny, nz], affine: [1.4, 0, 0, 0, 0, 1.4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], modality: 'CT', bodyPart: 'CHEST'
  }, { thumbnailSize: size })
}

/** Base volumes of the bench and their thumbnail size: every process makes the same ones. */
export const BENCH_BASES = 20
export const BENCH_THUMBNAIL = 32

export function benchBases (): Features[] {
  return Array.from({ length: BENCH_BASES }, (_, b) => phantomFeatures(b, BENCH_THUMBNAIL))
}

/** Series i of the bench: a candidate of base i mod BENCH_BASES. */
export function benchSeries (bases: readonly Features[], i: number): Features {
  return candidateOf(bases[i % bases.length] as Features, i)
}

// shared noise table: candidates read it from their own offset
const noise = xorshift(77)
const NOISE = Float32Array.from({ length: 1 << 20 }, () => (noise() - 0.5) * 0.02)

/** A candidate of `base`: thumbnail × gain + noise, histogram jittered and renormalized. */
export function candidateOf (base: Features, seed: number): Features {
  const r = xorshift(seed + 12345)
  const gain = 0.9 + 0.2 * r()
  const offset = Math.floor(r() * NOISE.length)
  const mask = NOISE.length - 1
  const thumbnail = new Float32Array(base.thumbnail.length)
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < thumbnail.length; i++) {
    let v = (base.thumbnail[i] as number) * gain + (NOISE[(offset + i) & mask] as number)
    v = Math.fround(v < 0 ? 0 : v > 1 ? 1 : v)
    thumbnail[i] = v
    if (v < min) min = v
    if (v > max) max = v
  }
  const histogram = base.histogram.map(h => h * (0.95 + 0.1 * r()))
  const sum = histogram.reduce((a, b) => a + b, 0)
  for (let b = 0; b < histogram.length; b++) histogram[b] = (histogram[b] as number) / sum
  return { ...base, thumbnail, histogram, thumbnailMin: min, thumbnailMax: max }
}

/** Plain loops over `thumbs` (scores into `out`), one per measure, `bins` bins for NMI/CR. */
export function plainLoops (thumbs: Float32Array[], mins: Float64Array, maxs: Float64Array, bins: number, out: Float64Array): Record<MeasureName, (q: Features) => void> {
  const V = (thumbs[0] as Float32Array).length
  const joint = new Int32Array(bins * bins)
  const rowSum = new Float64Array(bins)
  const colSum = new Float64Array(bins)
  const classN = new Float64Array(bins)
  const classS = new Float64Array(bins)

  function ncc (q: Float32Array): void {
    for (let c = 0; c < thumbs.length; c++) {
      const b = thumbs[c] as Float32Array
      let sa = 0; let sb = 0; let saa = 0; let sbb = 0; let sab = 0
      for (let i = 0; i < V; i++) {
        const x = q[i] as number
        const y = b[i] as number
        sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
      }
      const cov = sab - sa * sb / V
      out[c] = cov / Math.sqrt((saa - sa * sa / V) * (sbb - sb * sb / V))
    }
  }

  function nmi (q: Float32Array, qmin: number, qmax: number): void {
    const qs = bins / (qmax - qmin)
    for (let c = 0; c < thumbs.length; c++) {
      const b = thumbs[c] as Float32Array
      const lo = mins[c] as number
      const bs = bins / ((maxs[c] as number) - lo)
      joint.fill(0)
      for (let i = 0; i < V; i++) {
        const x = Math.min(bins - 1, (((q[i] as number) - qmin) * qs) | 0)
        const y = Math.min(bins - 1, (((b[i] as number) - lo) * bs) | 0)
        joint[x * bins + y] = (joint[x * bins + y] as number) + 1
      }
      rowSum.fill(0); colSum.fill(0)
      let hab = 0
      for (let x = 0; x < bins; x++) {
        for (let y = 0; y < bins; y++) {
          const p = (joint[x * bins + y] as number) / V
          rowSum[x] = (rowSum[x] as number) + p
          colSum[y] = (colSum[y] as number) + p
          if (p > 0) hab -= p * Math.log(p)
        }
      }
      let ha = 0; let hb = 0
      for (let k = 0; k < bins; k++) {
        const pa = rowSum[k] as number
        const pb = colSum[k] as number
        if (pa > 0) ha -= pa * Math.log(pa)
        if (pb > 0) hb -= pb * Math.log(pb)
      }
      out[c] = (ha + hb) / hab
    }
  }

  function cr (q: Float32Array, qmin: number, qmax: number): void {
    const qs = bins / (qmax - qmin)
    for (let c = 0; c < thumbs.length; c++) {
      const b = thumbs[c] as Float32Array
      classN.fill(0); classS.fill(0)
      let s = 0; let ss = 0
      for (let i = 0; i < V; i++) {
        const x = Math.min(bins - 1, (((q[i] as number) - qmin) * qs) | 0)
        const y = b[i] as number
        classN[x] = (classN[x] as number) + 1
        classS[x] = (classS[x] as number) + y
        s += y; ss += y * y
      }
      let between = 0
      for (let k = 0; k < bins; k++) if ((classN[k] as number) > 0) between += (classS[k] as number) ** 2 / (classN[k] as number)
      out[c] = (between - s * s / V) / (ss - s * s / V)
    }
  }

  return {
    ncc: q => { ncc(q.thumbnail) },
    nmi: q => { nmi(q.thumbnail, q.thumbnailMin, q.thumbnailMax) },
    cr: q => { cr(q.thumbnail, q.thumbnailMin, q.thumbnailMax) }
  }
}
