/**
 * C-GET and C-MOVE served from the node's own instances (PS3.4 C.4.2,
 * C.4.3). The identifier's unique key at its level selects the instances
 * (PS3.4 C.4.2.2.1); only files present on this node are sent. C-GET sends
 * them back on the requesting association; C-MOVE opens an association to a
 * destination taken from the configuration, never from the request.
 */
import type { Registry } from '../registry/index.js'
import { DicomAssociation } from './association.js'
import type { Counts, DimseConnection, FinalStatus, IncomingRequest } from './connection.js'
import type { ResolvedDicomOptions } from './constants.js'
import { storeProposal } from './contexts.js'
import { isSuccess, Status } from './dimse.js'
import { storeRequestFor, type StoredFile } from './outgoing.js'
import { exactValues } from '../registry/index.js'
import { parseLevel } from './scp-find.js'
import type { SliceStore } from './slice-store.js'
import { TransferSyntax } from './uids.js'

/** The stored instances an identifier selects. */
export async function instancesToRetrieve (registry: Registry, store: SliceStore, identifier: Record<string, unknown>): Promise<StoredFile[]> {
  const level = parseLevel(identifier)
  let lfns: string[] = []
  const want = (key: string): string[] => exactValues(identifier[key]) ?? []
  if (level === 'IMAGE') {
    const found = await Promise.all(want('SOPInstanceUID').map(async uid => await registry.instanceBySopUid(uid)))
    return found.flatMap(f => f?.instance.file === undefined ? [] : [toFile(store, f.instance)])
  }
  if (level === 'SERIES') lfns = (await Promise.all(want('SeriesInstanceUID').map(async u => await registry.lfnForSeriesUid(u)))).filter((l): l is string => l !== undefined)
  if (level === 'STUDY') lfns = (await Promise.all(want('StudyInstanceUID').map(async u => await registry.indexed('study', u)))).flat()
  if (level === 'PATIENT') lfns = (await Promise.all(want('PatientID').map(async u => await registry.indexed('patient', u)))).flat()
  const out: StoredFile[] = []
  for (const lfn of new Set(lfns)) {
    for (const i of await registry.instances(lfn)) if (i.file !== undefined) out.push(toFile(store, i))
  }
  return out
}

function toFile (store: SliceStore, i: { file?: string, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid?: string }): StoredFile {
  return {
    path: store.absolute(i.file ?? ''),
    sopClassUid: i.sopClassUid,
    sopInstanceUid: i.sopInstanceUid,
    transferSyntaxUid: i.transferSyntaxUid ?? TransferSyntax.ExplicitLittle
  }
}

/** Final status of a retrieval from its counts (PS3.4 C.4.2.1.5, C.4.3.1.4). */
export function finalStatus (counts: Counts, cancelled: boolean): FinalStatus {
  const done = { ...counts }
  if (cancelled) return { status: Status.Cancel, counts: done }
  if (counts.failed === 0 && counts.warning === 0) return { status: Status.Success, counts: done }
  if (counts.completed === 0 && counts.warning === 0) return { status: Status.MoveOutOfResourcesSubOps, counts: done, comment: 'all sub-operations failed' }
  return { status: Status.SubOpsFailed, counts: done, comment: 'some sub-operations failed' }
}

function tally (counts: Counts, status: number | undefined): void {
  counts.remaining--
  if (status === undefined || !isSuccess(status)) counts.failed++
  else if (status === Status.Success) counts.completed++
  else counts.warning++
}

export async function serveGet (registry: Registry, store: SliceStore, req: IncomingRequest, conn: DimseConnection, pending: (c: Counts) => void): Promise<FinalStatus> {
  const files = await instancesToRetrieve(registry, store, req.identifier)
  const counts: Counts = { remaining: files.length, completed: 0, failed: 0, warning: 0 }
  for (const file of files) {
    if (req.cancelled()) return finalStatus(counts, true)
    let status: number | undefined
    try {
      status = (await conn.perform(await storeRequestFor(conn, file))).getStatus()
    } catch {
      status = undefined
    }
    tally(counts, status)
    if (counts.remaining > 0) pending(counts)
  }
  return finalStatus(counts, false)
}

export interface MoveContext {
  registry: Registry
  store: SliceStore
  aeTitle: string
  options: ResolvedDicomOptions
}

export async function serveMove (ctx: MoveContext, req: IncomingRequest, destination: string, pending: (c: Counts) => void): Promise<FinalStatus> {
  const peer = ctx.options.moveDestinations[destination]
  if (peer === undefined) return { status: Status.MoveDestinationUnknown, comment: 'move destination unknown' }
  const files = await instancesToRetrieve(ctx.registry, ctx.store, req.identifier)
  const counts: Counts = { remaining: files.length, completed: 0, failed: 0, warning: 0 }
  if (files.length === 0) return finalStatus(counts, false)
  let assoc: DicomAssociation
  try {
    assoc = await DicomAssociation.open({
      ...ctx.options,
      host: peer.host,
      port: peer.port,
      callingAeTitle: ctx.aeTitle,
      calledAeTitle: destination,
      proposal: storeProposal(files)
    })
  } catch {
    return finalStatus({ ...counts, remaining: 0, failed: files.length }, false)
  }
  try {
    for (const file of files) {
      if (req.cancelled()) return finalStatus(counts, true)
      let status: number | undefined
      try {
        status = await assoc.store(file)
      } catch {
        status = undefined
      }
      tally(counts, status)
      if (counts.remaining > 0) pending(counts)
    }
  } finally {
    await assoc.release()
  }
  return finalStatus(counts, false)
}
