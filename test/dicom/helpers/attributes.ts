/** All decodable top-level attributes of a Part 10 file, without the instance checks (C-FIND responses). */
import { readFileSync } from 'node:fs'
import { BufferSource, decodeAttributes, readFileMeta, syntaxOf, walkDataset, type Attributes } from '../../../src/dicom/part10/index.js'

export function readAttributes (path: string): Attributes {
  const src = new BufferSource(readFileSync(path))
  const meta = readFileMeta(src)
  const syn = syntaxOf(meta.transferSyntaxUid)
  const scan = walkDataset(src, meta.datasetOffset, src.size, syn, { keepValueBytes: 65536, maxDepth: 16, maxElements: 100_000 })
  return decodeAttributes(scan.elements, syn.littleEndian)
}
