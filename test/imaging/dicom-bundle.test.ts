import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BundleReader, bundleObjects, imageId, parseImageId } from '../../src/imaging/dicom-bundle.js'

async function bundle (objects: Uint8Array[]): Promise<Uint8Array> {
  async function * source (): AsyncGenerator<Uint8Array> { yield * objects }
  const parts: Uint8Array[] = []
  for await (const p of bundleObjects(source())) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

function split (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let last = 0
  for (const p of [...points, bytes.length]) { out.push(bytes.subarray(last, p)); last = p }
  return out
}

describe('DICOM bundle', () => {
  it('round-trips any objects fed in any pieces', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }),
      async (objects, cuts) => {
        const bytes = await bundle(objects)
        const reader = new BundleReader()
        const got = split(bytes, cuts).flatMap(p => reader.push(p))
        reader.end()
        expect(got.map(o => Buffer.from(o).toString('hex'))).toEqual(objects.map(o => Buffer.from(o).toString('hex')))
      }), { numRuns: 100 })
  })

  it('refuses a foreign stream, a truncated one, and an object over the cap', async () => {
    expect(() => new BundleReader().push(new TextEncoder().encode('NOTADCM!rest'))).toThrow(expect.objectContaining({ name: 'BundleFormatError' }))
    const bytes = await bundle([new Uint8Array(100)])
    const cut = new BundleReader()
    cut.push(bytes.subarray(0, bytes.length - 1))
    expect(() => { cut.end() }).toThrow(expect.objectContaining({ name: 'BundleFormatError' }))
    expect(() => { new BundleReader().end() }).toThrow(expect.objectContaining({ name: 'BundleFormatError' }))
    expect(() => new BundleReader(50).push(bytes)).toThrow(expect.objectContaining({ name: 'BundleFormatError' }))
  })

  it('derives the id of the DICOM form from the LFN and back', () => {
    expect(imageId('abc', 'nifti')).toBe('abc')
    expect(parseImageId(imageId('abc', 'dicom'))).toEqual({ lfn: 'abc', format: 'dicom' })
    expect(parseImageId('abc')).toEqual({ lfn: 'abc', format: 'nifti' })
  })
})
