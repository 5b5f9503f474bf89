/**
 * An imager (a CT scanner, a PACS forwarding) pushing series to a hospital
 * node's DICOM SCP by C-STORE, one association per series. An instance counts
 * as acknowledged only once the node answered success: those are what the
 * node must never lose, even when it is killed mid-transfer.
 */
import { DicomAssociation } from '../../src/dicom/association.js'
import { resolveDicomOptions } from '../../src/dicom/constants.js'
import { storeProposal } from '../../src/dicom/contexts.js'
import type { LibrarySeries } from '../harness/dataset.js'

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2'
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'

export interface ImagerTarget {
  host: string
  port: number
  aeTitle: string
}

export class Imager {
  /** SOP instance UIDs the node acknowledged. */
  readonly acknowledged: string[] = []
  /** Stores that failed (node down, connection cut): never acknowledged. */
  failures = 0

  /** Sends a series' instances in order; stops at the first failure (the rest is not acknowledged). */
  async push (target: ImagerTarget, series: LibrarySeries, signal?: AbortSignal): Promise<number> {
    const o = resolveDicomOptions()
    const instances = series.sops.map(sopInstanceUid => ({ sopClassUid: CT_IMAGE_STORAGE, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN, sopInstanceUid }))
    let assoc: DicomAssociation | undefined
    let sent = 0
    try {
      assoc = await DicomAssociation.open({
        host: target.host,
        port: target.port,
        callingAeTitle: 'SIM_IMAGER',
        calledAeTitle: target.aeTitle,
        proposal: storeProposal(instances),
        connectTimeoutMs: 3_000,
        associationTimeoutMs: 5_000,
        pduTimeoutMs: 5_000,
        maxPduLength: o.maxPduLength,
        requestTimeoutMs: 10_000,
        ...(signal === undefined ? {} : { signal })
      })
      for (const [i, inst] of instances.entries()) {
        await assoc.store({ path: series.files[i] as string, ...inst }, signal === undefined ? {} : { signal })
        this.acknowledged.push(inst.sopInstanceUid)
        sent++
      }
    } catch {
      this.failures++
    } finally {
      await assoc?.release().catch(() => {})
    }
    return sent
  }
}
