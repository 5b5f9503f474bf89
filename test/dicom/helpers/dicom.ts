/** Shortcuts for tests: the adapter's pieces, and File Meta Information read from a path. */
import { readFileSync } from 'node:fs'
import { BufferSource, readFileMeta as readMeta, type FileMeta } from '../../../src/dicom/part10/index.js'

export { DicomAssociation, storeProposal, retrieveProposal } from '../../../src/dicom/index.js'

export function readFileMeta (path: string): FileMeta {
  return readMeta(new BufferSource(readFileSync(path)))
}
