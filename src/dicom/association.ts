/**
 * One outgoing DICOM association as a promise-based object: open it, run
 * requests one at a time (each with an AbortSignal and a timeout), release
 * it. A timed-out or aborted request aborts the association (A-ABORT,
 * PS3.8 §7.3): the peer's state is unknown afterwards, so the association is
 * never reused.
 */
import { connect } from 'node:net'
import { MAX_INBOUND_PDU_BYTES, RELEASE_TIMEOUT_MS } from './constants.js'
import { DimseConnection, type StoreHandler } from './connection.js'
import type { Proposal } from './contexts.js'
import { dimse, fastCommand, isPending, isSuccess, Status, type Request, type Response } from './dimse.js'
import {
  AssociationAbortedError, AssociationRejectedError, DicomNetworkError, DicomStatusError,
  DicomTimeoutError, NoPresentationContextError, throwIfAborted
} from './errors.js'
import { storeRequestFor, type StoredFile } from './outgoing.js'
import { guardSocket } from './socket.js'

export interface AssociationOptions {
  host: string
  port: number
  callingAeTitle: string
  calledAeTitle: string
  proposal: Proposal[]
  connectTimeoutMs: number
  associationTimeoutMs: number
  pduTimeoutMs: number
  maxPduLength: number
  /** Default deadline of each request. */
  requestTimeoutMs: number
  /** Where C-STORE sub-operations of a C-GET go. */
  store?: StoreHandler
  signal?: AbortSignal
}

export interface RequestOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

/** Sub-operation counts of a C-GET or C-MOVE (PS3.4 C.4.2.1.6). */
export interface RetrieveCounts {
  remaining: number
  completed: number
  failed: number
  warning: number
}

export interface RetrieveOptions extends RequestOptions {
  /** Each pending response, with the counts so far. */
  onPending?: (counts: RetrieveCounts) => void
}

export type Identifier = Record<string, unknown>

function countsOf (r: Response): RetrieveCounts {
  const c = r as unknown as { getRemaining: () => number, getCompleted: () => number, getFailures: () => number, getWarnings: () => number }
  return { remaining: c.getRemaining() ?? 0, completed: c.getCompleted() ?? 0, failed: c.getFailures() ?? 0, warning: c.getWarnings() ?? 0 }
}

export class DicomAssociation {
  private readonly conn: DimseConnection
  private readonly requestTimeoutMs: number
  private queue: Promise<unknown> = Promise.resolve()
  private broken = false

  private constructor (conn: DimseConnection, requestTimeoutMs: number) {
    this.conn = conn
    this.requestTimeoutMs = requestTimeoutMs
    const mark = (): void => { this.broken = true }
    conn.closed.then(mark, mark)
  }

  /** Connects and negotiates; rejects with AssociationRejectedError, DicomNetworkError, DicomTimeoutError or DicomAbortError. */
  static async open (o: AssociationOptions): Promise<DicomAssociation> {
    throwIfAborted(o.signal, `association with ${o.calledAeTitle}`)
    const socket = connect({ host: o.host, port: o.port })
    guardSocket(socket, MAX_INBOUND_PDU_BYTES)
    const conn = new DimseConnection(socket, o, o.store === undefined ? {} : { store: o.store })
    const request = new dimse.association.Association(o.callingAeTitle, o.calledAeTitle)
    request.setMaxPduLength(o.maxPduLength)
    for (const p of o.proposal) {
      const id = request.addPresentationContext(p.abstractSyntax)
      for (const ts of p.transferSyntaxes) request.addTransferSyntaxToPresentationContext(id, ts)
      if (p.scpRole === true) {
        const ctx = request.getPresentationContext(id)
        ctx.setUserRole(false)
        ctx.setProviderRole(true)
      }
    }
    let lastError = ''
    socket.on('error', err => { lastError = (err as NodeJS.ErrnoException).code ?? err.message })
    return await new Promise<DicomAssociation>((resolve, reject) => {
      const fail = (err: Error): void => { cleanup(); socket.destroy(); reject(err) }
      const timer = setTimeout(() => { fail(new DicomTimeoutError(`association with ${o.calledAeTitle}`, o.connectTimeoutMs)) }, o.connectTimeoutMs)
      const onAbort = (): void => {
        try { throwIfAborted(o.signal, `association with ${o.calledAeTitle}`) } catch (err) { fail(err as Error) }
      }
      o.signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = (): void => { clearTimeout(timer); o.signal?.removeEventListener('abort', onAbort) }
      conn.on('connect', () => { conn.sendAssociationRequest(request) })
      conn.on('associationAccepted', () => {
        cleanup()
        resolve(new DicomAssociation(conn, o.requestTimeoutMs))
      })
      conn.on('associationRejected', (r: { result: number, source: number, reason: number }) => {
        fail(new AssociationRejectedError(r.result, r.source, r.reason))
      })
      conn.closed.then(() => {
        fail(conn.peerAborted
          ? new AssociationAbortedError('A-ABORT during negotiation')
          : new DicomNetworkError(`cannot associate with ${o.host}:${o.port}${lastError === '' ? '' : ` (${lastError})`}`))
      }, () => {})
    })
  }

  get isOpen (): boolean { return !this.broken }

  /** Resolves when the connection is gone. */
  get closed (): Promise<void> { return this.conn.closed }

  async echo (options: RequestOptions = {}): Promise<void> {
    const response = await this.run(fastCommand(new dimse.requests.CEchoRequest()), 'C-ECHO', options)
    if (response.getStatus() !== Status.Success) throw new DicomStatusError('C-ECHO', response.getStatus())
  }

  /** C-FIND; resolves with every matching identifier (dcmjs naturalized). */
  async find (model: string, identifier: Identifier, options: RequestOptions = {}): Promise<Identifier[]> {
    const req = fastCommand(new dimse.requests.CFindRequest())
    req.setAffectedSopClassUid(model)
    req.setDataset(new dimse.Dataset(identifier))
    const results: Identifier[] = []
    const final = await this.run(req, 'C-FIND', options, r => {
      const ds = r.getDataset()
      if (ds !== undefined) results.push(ds.getElements())
    })
    if (!isSuccess(final.getStatus())) throw new DicomStatusError('C-FIND', final.getStatus(), final.getErrorComment())
    return results
  }

  /** C-GET: instances arrive as C-STORE sub-operations on this association (to `store`). */
  async get (model: string, identifier: Identifier, options: RetrieveOptions = {}): Promise<RetrieveCounts> {
    const req = fastCommand(new dimse.requests.CGetRequest())
    req.setAffectedSopClassUid(model)
    req.setDataset(new dimse.Dataset(identifier))
    return await this.retrieve(req, 'C-GET', options)
  }

  /** C-MOVE to `destination` (an AE title the peer knows). */
  async move (model: string, destination: string, identifier: Identifier, options: RetrieveOptions = {}): Promise<RetrieveCounts> {
    const req = fastCommand(new dimse.requests.CMoveRequest())
    req.setAffectedSopClassUid(model)
    req.setDataset(new dimse.Dataset(identifier))
    req.getCommandDataset().setElement('MoveDestination', destination)
    return await this.retrieve(req, 'C-MOVE', options)
  }

  /** C-STORE of a stored instance; resolves with the peer's status (success or warning). */
  async store (file: StoredFile, options: RequestOptions = {}): Promise<number> {
    const req = await storeRequestFor(this.conn, file)
    const final = await this.run(req, 'C-STORE', options)
    if (!isSuccess(final.getStatus())) throw new DicomStatusError('C-STORE', final.getStatus(), final.getErrorComment())
    return final.getStatus()
  }

  /** Orderly release (A-RELEASE); aborts if the peer does not answer in time. */
  async release (): Promise<void> {
    if (this.broken) return
    this.broken = true
    await this.queue.catch(() => {})
    const socket = this.conn.internals.socket
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { socket.destroy(); resolve() }, RELEASE_TIMEOUT_MS)
      this.conn.on('associationReleaseResponse', () => { clearTimeout(timer); socket.end(); resolve() })
      this.conn.closed.then(() => { clearTimeout(timer); resolve() }, () => {})
      this.conn.sendAssociationReleaseRequest()
    })
  }

  /** Immediate A-ABORT and close. */
  abort (): void {
    this.broken = true
    if (this.conn.negotiated !== undefined) this.conn.sendAbort(0, 0)
    this.conn.internals.socket.destroy()
  }

  private async retrieve (req: Request, op: string, options: RetrieveOptions): Promise<RetrieveCounts> {
    let last: RetrieveCounts = { remaining: 0, completed: 0, failed: 0, warning: 0 }
    const final = await this.run(req, op, options, r => {
      last = countsOf(r)
      options.onPending?.(last)
    })
    const status = final.getStatus()
    const counts = { ...last, ...countsOf(final), remaining: 0 }
    if (!isSuccess(status)) throw new DicomStatusError(op, status, final.getErrorComment())
    return counts
  }

  private async run (req: Request, op: string, options: RequestOptions, onPending?: (r: Response) => void): Promise<Response> {
    const turn = this.queue.then(async () => await this.runNow(req, op, options, onPending))
    this.queue = turn.catch(() => {})
    return await turn
  }

  private async runNow (req: Request, op: string, options: RequestOptions, onPending?: (r: Response) => void): Promise<Response> {
    if (this.broken) throw new AssociationAbortedError('association no longer usable')
    throwIfAborted(options.signal, op)
    const sopClass = req.getAffectedSopClassUid()
    if (this.conn.negotiated?.getAcceptedPresentationContextFromRequest(req) === undefined) throw new NoPresentationContextError(sopClass)
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
    let stop: Error | undefined
    return await new Promise<Response>((resolve, reject) => {
      const end = (err: Error): void => { stop = err; cleanup(); this.abort(); reject(err) }
      const timer = setTimeout(() => { end(new DicomTimeoutError(op, timeoutMs)) }, timeoutMs)
      const onAbort = (): void => {
        try { throwIfAborted(options.signal, op) } catch (err) { end(err as Error) }
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = (): void => { clearTimeout(timer); options.signal?.removeEventListener('abort', onAbort) }
      this.conn.perform(req, r => { if (isPending(r.getStatus())) onPending?.(r) }).then(r => { cleanup(); resolve(r) }, () => {
        cleanup()
        if (stop !== undefined) return
        this.broken = true
        reject(this.conn.peerAborted ? new AssociationAbortedError(`A-ABORT during ${op}`) : new DicomNetworkError(`connection lost during ${op}`))
      })
    })
  }
}
