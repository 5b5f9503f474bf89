/**
 * One DICOM connection, server or client side: a subclass of dcmjs-dimse's
 * `Scp` (its only exported `Network`) whose callbacks are routed to a typed
 * handler object. Everything event- or callback-shaped about dcmjs-dimse
 * stops here; `DicomScp` and `DicomAssociation` expose promises.
 *
 * C-STORE data sets are never accumulated in memory: dcmjs-dimse asks for a
 * writable per data set (`createStoreWritableStream`), and ours writes each
 * PDV straight into a temporary file of the slice store.
 */
import type { Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { commandPdu } from './command.js'
import { dimse, fastCommand, Status, type Association, type NetworkInternals, type PresentationContext, type Request, type Response } from './dimse.js'
import { MAX_INBOUND_PDU_BYTES } from './constants.js'
import { PduFramer } from './socket.js'
import type { TempFile } from './temp-file.js'
import { withCounts, type FinalStatus, type IncomingRequest, type ServerHandler, type StoreHandler, type StoreHeader, type StoreOutcome } from './handlers.js'

export type { Counts, FinalStatus, IncomingRequest, ServerHandler, StoreHandler, StoreHeader, StoreOutcome } from './handlers.js'

export interface ConnectionTimeouts {
  associationTimeoutMs: number
  pduTimeoutMs: number
}

const temps = new WeakMap<object, TempFile>()
/** 'data' listeners a socket had before dcmjs-dimse added its own (see the constructor). */
const listenersBefore = new WeakMap<Socket, Set<unknown>>()

function noteListeners (socket: Socket): Socket {
  listenersBefore.set(socket, new Set(socket.listeners('data')))
  return socket
}

type SendPDataTF = (this: unknown, command: unknown, pcId: number, maxPduLength: number) => void
const sendPDataTF = (dimse.Scp.prototype as unknown as { _sendPDataTF: SendPDataTF })._sendPDataTF

function sinkFor (temp: TempFile | undefined): Writable {
  // dcmjs-dimse only calls write/end/once; write never reports backpressure,
  // so its PDU loop never awaits and PDVs stay strictly ordered.
  const sink = {
    write: (chunk: Uint8Array): boolean => { temp?.write(chunk); return true },
    end: (): void => {},
    once: () => sink
  }
  return sink as unknown as Writable
}

export class DimseConnection extends dimse.Scp {
  readonly closed: Promise<void>
  /** The peer sent A-ABORT. */
  peerAborted = false
  /** Largest PDU the peer receives (server side: from its A-ASSOCIATE-RQ); we send within it. */
  private sendPduLimit: number | undefined
  private readonly store: StoreHandler | undefined
  private readonly server: ServerHandler | undefined
  private readonly open = new Set<TempFile>()
  private readonly cancelled = new Set<number>()

  constructor (socket: Socket, timeouts: ConnectionTimeouts, handlers: { store?: StoreHandler, server?: ServerHandler }) {
    super(noteListeners(socket), {
      connectTimeout: timeouts.pduTimeoutMs,
      associationTimeout: timeouts.associationTimeoutMs,
      pduTimeout: timeouts.pduTimeoutMs
    })
    this.store = handlers.store
    this.server = handlers.server
    // No custom tag names: write data sets with dcmjs's dictionary as it is (see NetworkInternals).
    this.internals.datasetNameMap = undefined
    this.closed = new Promise(resolve => {
      this.on('close', () => {
        // A data set cut off by a closed connection leaves nothing behind.
        for (const t of this.open) ignore(t.discard())
        this.open.clear()
        resolve()
      })
    })
    this.on('networkError', () => { socket.destroy() })
    // dcmjs-dimse's PDU accumulator is replaced by ours (one copy per PDU at most).
    const before = listenersBefore.get(socket) ?? new Set()
    for (const l of socket.listeners('data')) if (!before.has(l)) socket.off('data', l as (...args: unknown[]) => void)
    const framer = new PduFramer(MAX_INBOUND_PDU_BYTES, pdu => {
      this.internals.lastPduTime = Date.now()
      this.internals._processPdu(pdu).catch(() => { socket.destroy() })
    }, err => { socket.destroy(err) })
    socket.on('data', (chunk: Buffer) => { framer.push(chunk) })
  }

  get internals (): NetworkInternals { return this as unknown as NetworkInternals }
  /** The association once negotiated (dcmjs-dimse keeps it in `association`). */
  get negotiated (): Association | undefined { return this.internals.association }

  /** Marks the server-side connection as up: dcmjs-dimse only does so for client sockets. */
  startServerClock (): void {
    this.internals.connected = true
    this.internals.connectedTime = Date.now()
  }

  /** Counts our own long-running replies as activity, so a long C-GET is not cut by the PDU timeout. */
  touch (): void {
    this.internals.lastPduTime = Date.now()
  }

  override associationRequested (association: Association): void {
    if (this.server === undefined) { this.sendAssociationReject(1, 1, 1); this.internals.socket.end(); return }
    // dcmjs-dimse keeps one max PDU length per association, for what it sends
    // and what it advertises; the peer's own limit is kept here for sending.
    this.sendPduLimit = association.getMaxPduLength()
    const decision = this.server.associate(association)
    if (decision.reject !== undefined) {
      this.sendAssociationReject(...decision.reject)
      this.internals.socket.end()
      return
    }
    this.sendAssociationAccept()
  }

  /**
   * Sends a DIMSE message. A command without a data set (every response of
   * a C-STORE, C-GET and C-ECHO, a final C-FIND response) goes out as one
   * PDU written here; anything else through dcmjs-dimse's PDU writer,
   * within the peer's limit rather than the one we advertised.
   */
  _sendPDataTF (command: unknown, pcId: number, maxPduLength: number): void {
    const message = command as Request | Response
    if (message.getDataset() === undefined) {
      const pdu = commandPdu(message.getCommandDataset().getDenaturalizedCommandDataset(), pcId)
      this.internals.socket.write(pdu)
      this.internals.statistics.addBytesSent(pdu.length)
      return
    }
    sendPDataTF.call(this, command, pcId, this.sendPduLimit ?? maxPduLength)
  }

  override associationReleaseRequested (): void {
    this.sendAssociationReleaseResponse()
  }

  override abort (): void {
    this.peerAborted = true
    this.internals.socket.destroy()
  }

  override cEchoRequest (request: InstanceType<typeof dimse.requests.CEchoRequest>, callback: (r: InstanceType<typeof dimse.responses.CEchoResponse>) => void): void {
    const rsp = dimse.responses.CEchoResponse.fromRequest(request)
    rsp.setStatus(Status.Success)
    callback(rsp)
  }

  override createStoreWritableStream (context: PresentationContext, request: InstanceType<typeof dimse.requests.CStoreRequest>): Writable {
    if (this.store === undefined) return sinkFor(undefined)
    let temp: TempFile | undefined
    try {
      temp = this.store.open(this.storeHeader(context, request))
      this.open.add(temp)
      temps.set(request, temp)
    } catch {
      temp = undefined
    }
    return sinkFor(temp)
  }

  override createDatasetFromStoreWritableStream (_w: Writable, context: PresentationContext, callback: (d: InstanceType<typeof dimse.Dataset>) => void): void {
    callback(new dimse.Dataset({}, context.getAcceptedTransferSyntaxUid()))
  }

  override cStoreRequest (request: InstanceType<typeof dimse.requests.CStoreRequest>, callback: (r: InstanceType<typeof dimse.responses.CStoreResponse>) => void): void {
    const temp = temps.get(request)
    if (temp !== undefined) this.open.delete(temp)
    const context = this.negotiated?.getAcceptedPresentationContextFromRequest(request)
    const header = this.storeHeader(context, request)
    const done = this.store === undefined
      ? Promise.resolve<StoreOutcome>({ status: Status.OutOfResources, comment: 'not accepting instances' })
      : this.store.complete(temp, header)
    done.catch((): StoreOutcome => ({ status: Status.OutOfResources, comment: 'storage failure' })).then(outcome => {
      const rsp = fastCommand(dimse.responses.CStoreResponse.fromRequest(request))
      rsp.setStatus(outcome.status)
      if (outcome.comment !== undefined) rsp.setErrorComment(outcome.comment.slice(0, 64))
      callback(rsp)
    }).catch(() => { this.internals.socket.destroy() })
  }

  override cFindRequest (request: InstanceType<typeof dimse.requests.CFindRequest>, callback: (r: Array<InstanceType<typeof dimse.responses.CFindResponse>>) => void): void {
    const make = (): InstanceType<typeof dimse.responses.CFindResponse> => {
      const r = fastCommand(dimse.responses.CFindResponse.fromRequest(request))
      r.setAffectedSopClassUid(request.getAffectedSopClassUid())
      return r
    }
    const ts = this.acceptedSyntaxFor(request)
    this.serve(request, callback, make, (req) => this.server?.find(req, identifier => {
      const r = make()
      r.setStatus(Status.Pending)
      r.setDataset(new dimse.Dataset(identifier, ts))
      this.touch()
      this.sendResponse(request, r)
    }))
  }

  override cGetRequest (request: InstanceType<typeof dimse.requests.CGetRequest>, callback: (r: Array<InstanceType<typeof dimse.responses.CGetResponse>>) => void): void {
    const make = (): InstanceType<typeof dimse.responses.CGetResponse> => {
      const r = fastCommand(dimse.responses.CGetResponse.fromRequest(request))
      r.setAffectedSopClassUid(request.getAffectedSopClassUid())
      return r
    }
    this.serve(request, callback, make, (req) => this.server?.get(req, this, counts => {
      this.touch()
      this.sendResponse(request, withCounts(make(), Status.Pending, counts))
    }))
  }

  override cMoveRequest (request: InstanceType<typeof dimse.requests.CMoveRequest>, callback: (r: Array<InstanceType<typeof dimse.responses.CMoveResponse>>) => void): void {
    const make = (): InstanceType<typeof dimse.responses.CMoveResponse> => {
      const r = fastCommand(dimse.responses.CMoveResponse.fromRequest(request))
      r.setAffectedSopClassUid(request.getAffectedSopClassUid())
      return r
    }
    const destination = String(request.getCommandDataset().getElement('MoveDestination') ?? '').trim()
    this.serve(request, callback, make, (req) => this.server?.move(req, destination, counts => {
      this.touch()
      this.sendResponse(request, withCounts(make(), Status.Pending, counts))
    }))
  }

  override cCancelRequest (request: InstanceType<typeof dimse.requests.CCancelRequest>): void {
    this.cancelled.add(request.getMessageIdBeingRespondedTo())
  }

  /** The accepted context for a SOP class, preferring one in `transferSyntaxUid` (bit-stream). */
  contextFor (sopClassUid: string, transferSyntaxUid: string): PresentationContext | undefined {
    let fallback: PresentationContext | undefined
    for (const { context } of this.negotiated?.getPresentationContexts() ?? []) {
      if (context.getAbstractSyntaxUid() !== sopClassUid || context.getResult() !== 0) continue
      if (context.getAcceptedTransferSyntaxUid() === transferSyntaxUid) return context
      fallback ??= context
    }
    return fallback
  }

  /** Sends a request on this association and resolves with its final response. */
  async perform<R extends Response> (request: Request, onPending?: (r: R) => void): Promise<R> {
    return await new Promise<R>((resolve, reject) => {
      let settled = false
      const closed = (): void => { if (!settled) { settled = true; reject(new Error('connection closed')) } }
      request.on('response', (response: Response) => {
        const status = response.getStatus()
        if (status === Status.Pending || status === Status.PendingWarning) { onPending?.(response as R); return }
        settled = true
        resolve(response as R)
      })
      // dcmjs-dimse ends a request it could not encode (e.g. an impossible
      // transcoding) with "done" and no response.
      request.on('done', () => { if (!settled) { settled = true; reject(new Error('request could not be sent')) } })
      this.closed.then(closed, closed)
      this.sendRequests(request)
    })
  }

  private acceptedSyntaxFor (request: Request): string {
    return this.negotiated?.getAcceptedPresentationContextFromRequest(request)?.getAcceptedTransferSyntaxUid() ?? '1.2.840.10008.1.2'
  }

  private storeHeader (context: PresentationContext | undefined, request: InstanceType<typeof dimse.requests.CStoreRequest>): StoreHeader {
    const a = this.negotiated
    const server = this.server !== undefined
    return {
      sopClassUid: String(request.getAffectedSopClassUid() ?? ''),
      sopInstanceUid: String(request.getAffectedSopInstanceUid() ?? ''),
      transferSyntaxUid: context?.getAcceptedTransferSyntaxUid() ?? '',
      peerAeTitle: (server ? a?.getCallingAeTitle() : a?.getCalledAeTitle()) ?? ''
    }
  }

  private serve<T extends Response> (
    request: Request,
    callback: (r: T[]) => void,
    make: () => T,
    run: (req: IncomingRequest) => Promise<FinalStatus> | undefined
  ): void {
    const messageId = request.getMessageId()
    const req: IncomingRequest = {
      messageId,
      sopClassUid: request.getAffectedSopClassUid(),
      identifier: request.getDataset()?.getElements() ?? {},
      callingAeTitle: this.negotiated?.getCallingAeTitle() ?? '',
      cancelled: () => this.cancelled.has(messageId)
    }
    const work = run(req) ?? Promise.resolve<FinalStatus>({ status: Status.UnableToProcess })
    work.catch((): FinalStatus => ({ status: Status.UnableToProcess, comment: 'processing failure' })).then(final => {
      this.cancelled.delete(messageId)
      const r = final.counts === undefined ? make() : withCounts(make(), final.status, final.counts)
      r.setStatus(final.status)
      if (final.comment !== undefined) r.setErrorComment(final.comment.slice(0, 64))
      callback([r])
    }).catch(() => { this.internals.socket.destroy() })
  }
}

function ignore (p: Promise<unknown>): void {
  p.catch(() => {})
}
