/**
 * What a DICOM connection hands to the node's logic, and gets back: the
 * typed side of the adapter's callbacks (see connection.ts).
 */
import type { Association, Response } from './dimse.js'
import { Status } from './dimse.js'
import type { DimseConnection } from './connection.js'
import type { TempFile } from './temp-file.js'

/** Identity of an incoming C-STORE, from its command set and presentation context. */
export interface StoreHeader {
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
  /** AE title of the peer that sent the data set. */
  peerAeTitle: string
}

export interface StoreOutcome {
  status: number
  comment?: string
}

/** Where incoming data sets go: a temp file per C-STORE, then a verdict. */
export interface StoreHandler {
  open: (header: StoreHeader) => TempFile
  complete: (temp: TempFile | undefined, header: StoreHeader) => Promise<StoreOutcome>
}

/** A query/retrieve request as the SCP sees it. */
export interface IncomingRequest {
  messageId: number
  sopClassUid: string
  /** The identifier (dcmjs naturalized attributes). */
  identifier: Record<string, unknown>
  callingAeTitle: string
  /** True once the peer sent C-CANCEL for this request (PS3.7 §9.3.2.3). */
  cancelled: () => boolean
}

export interface Counts { remaining: number, completed: number, failed: number, warning: number }

export interface FinalStatus { status: number, comment?: string, counts?: Counts }

export interface ServerHandler {
  associate: (association: Association) => { reject?: [result: number, source: number, reason: number] }
  find: (req: IncomingRequest, pending: (identifier: Record<string, unknown>) => void) => Promise<FinalStatus>
  get: (req: IncomingRequest, conn: DimseConnection, pending: (counts: Counts) => void) => Promise<FinalStatus>
  move: (req: IncomingRequest, destination: string, pending: (counts: Counts) => void) => Promise<FinalStatus>
}

export function withCounts<T extends Response> (r: T, status: number, c: Counts): T {
  const cmd = r.getCommandDataset()
  r.setStatus(status)
  // Final responses carry no Remaining count (PS3.4 C.4.2.1.6, C.4.3.1.6).
  if (status === Status.Pending) cmd.setElement('NumberOfRemainingSuboperations', c.remaining as unknown as string)
  cmd.setElement('NumberOfCompletedSuboperations', c.completed as unknown as string)
  cmd.setElement('NumberOfFailedSuboperations', c.failed as unknown as string)
  cmd.setElement('NumberOfWarningSuboperations', c.warning as unknown as string)
  return r
}
