/** The raw pixel data bytes of a Part 10 file (all fragments when encapsulated), for byte comparisons. */
import { readFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'
import { BufferSource, readFileMeta, syntaxOf, walkDataset } from '../../../src/dicom/part10/index.js'

export function pixelData (path: string): Buffer {
  const buf = readFileSync(path)
  const meta = readFileMeta(new BufferSource(buf))
  const deflated = meta.transferSyntaxUid === '1.2.840.10008.1.2.1.99'
  const data = deflated ? inflateRawSync(buf.subarray(meta.datasetOffset)) : buf
  const start = deflated ? 0 : meta.datasetOffset
  const scan = walkDataset(new BufferSource(data), start, data.length, syntaxOf(meta.transferSyntaxUid), { keepValueBytes: 0, maxDepth: 16, maxElements: 1e6 })
  const pd = scan.pixelData
  if (pd === undefined) return Buffer.alloc(0)
  return Buffer.from(data.subarray(pd.offset, pd.encapsulated ? pd.end : pd.offset + pd.length))
}
