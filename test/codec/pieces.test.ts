import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { byteLengthOf, joined, piecesOf } from '../../src/codec/pieces.js'

const cutsOf = fc.uint8Array({ maxLength: 300 }).chain(bytes => fc.record({
  bytes: fc.constant(bytes),
  cuts: fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 8 })
}))

function cut (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), bytes.length]
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end))
}

describe('bytes in pieces', () => {
  it('join and measure like the bytes they hold, however cut', () => {
    fc.assert(fc.property(cutsOf, ({ bytes, cuts }) => {
      const pieces = cut(bytes, cuts)
      expect(byteLengthOf(pieces)).toBe(bytes.length)
      expect(joined(pieces)).toEqual(bytes)
    }))
  })

  it('hand back one buffer or one piece as is', () => {
    const b = Uint8Array.of(1, 2, 3)
    expect(joined(b)).toBe(b)
    expect(joined([b])).toBe(b)
    expect(piecesOf(b)).toEqual([b])
    expect(joined([])).toEqual(new Uint8Array(0))
  })
})

describe('bytes in pieces, written to a file', () => {
  it('land whole and in order, in one gathered write, and go through the cache spool the same way', async () => {
    const { readFile, stat } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const { tempDir } = await import('../helpers/tmp.js')
    const { writeFilePieces } = await import('../../src/codec/write-pieces.js')
    const { OverLimit, spool } = await import('../../src/cache/spool.js')
    const dir = await tempDir()
    try {
      await fc.assert(fc.asyncProperty(cutsOf, async ({ bytes, cuts }) => {
        const path = join(dir.path, 'f')
        await writeFilePieces(path, cut(bytes, cuts))
        expect(new Uint8Array(await readFile(path))).toEqual(bytes)
        expect((await stat(path)).mode & 0o777).toBe(0o600)
      }), { numRuns: 40 })
      const big = new Uint8Array(200_000).map((_, i) => i % 251)
      const spooled = await spool(cut(big, [1, 70_000, 140_000]), join(dir.path, 'spooled'), 1 << 20, 1024)
      expect(spooled).toMatchObject({ kind: 'file', size: big.length })
      expect(new Uint8Array(await readFile(join(dir.path, 'spooled')))).toEqual(big)
      const small = await spool([Uint8Array.of(1, 2), Uint8Array.of(3)], join(dir.path, 'inline'), 1 << 20, 1024)
      expect(small).toMatchObject({ kind: 'inline', data: Uint8Array.of(1, 2, 3) })
      await expect(spool([big, big], join(dir.path, 'over'), 300_000, 1024)).rejects.toBeInstanceOf(OverLimit)
      await expect(stat(join(dir.path, 'over'))).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      await dir.remove()
    }
  })
})
