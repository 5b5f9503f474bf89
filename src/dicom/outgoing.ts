/**
 * Sending a stored instance as a C-STORE request (C-GET and C-MOVE
 * sub-operations, SCU store). In the stored transfer syntax the data set
 * goes out byte for byte, never re-encoded: dcmjs-dimse asks its Dataset
 * for the encoded bytes, and `RawDataset` answers with the file's own.
 * Only when the peer accepted another uncompressed syntax is the instance
 * parsed and transcoded by dcmjs-dimse. Either way the instance is held in
 * memory while it is sent (dcmjs-dimse writes PDUs from one buffer).
 */
import { readFile } from 'node:fs/promises'
import { dimse, fastCommand, type CStoreRequest } from './dimse.js'
import { NoPresentationContextError } from './errors.js'
import type { DimseConnection } from './connection.js'
import { BufferSource, readFileMeta } from './part10/index.js'
import { UNCOMPRESSED_SYNTAXES } from './uids.js'

export interface StoredFile {
  /** Absolute path of the Part 10 file. */
  path: string
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
}

class RawDataset extends dimse.Dataset {
  constructor (private readonly raw: Buffer, ts: string, sopClassUid: string, sopInstanceUid: string) {
    super({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, ts)
  }

  override getDenaturalizedDataset (): Buffer {
    return this.raw
  }
}

/** A C-STORE request for `file` on `conn`, in the stored syntax when the peer accepted it. */
export async function storeRequestFor (conn: DimseConnection, file: StoredFile): Promise<CStoreRequest> {
  const ctx = conn.contextFor(file.sopClassUid, file.transferSyntaxUid)
  if (ctx === undefined) throw new NoPresentationContextError(file.sopClassUid)
  const accepted = ctx.getAcceptedTransferSyntaxUid() ?? ''
  const bytes = await readFile(file.path)
  let dataset: InstanceType<typeof dimse.Dataset>
  if (accepted === file.transferSyntaxUid) {
    const meta = readFileMeta(new BufferSource(bytes))
    dataset = new RawDataset(bytes.subarray(meta.datasetOffset), file.transferSyntaxUid, file.sopClassUid, file.sopInstanceUid)
  } else if (UNCOMPRESSED_SYNTAXES.includes(accepted) && UNCOMPRESSED_SYNTAXES.includes(file.transferSyntaxUid)) {
    dataset = new dimse.Dataset(bytes.subarray(readFileMeta(new BufferSource(bytes)).datasetOffset), file.transferSyntaxUid)
  } else {
    throw new NoPresentationContextError(file.sopClassUid, file.transferSyntaxUid)
  }
  return fastCommand(new dimse.requests.CStoreRequest(dataset))
}
