/**
 * The node as a DICOM server (SCP): C-ECHO, C-STORE (streamed to the slice
 * store, one status per instance), C-FIND from the registry, C-GET and
 * C-MOVE of the node's own instances. The TCP server is ours, bound to the
 * configured host only (dcmjs-dimse's `Server.listen` would bind every
 * interface); each accepted socket gets Nagle off and a PDU length guard.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { Registry } from '../registry/index.js'
import { DimseConnection, type ServerHandler, type StoreHandler } from './connection.js'
import { MAX_FIND_RESULTS, MAX_INBOUND_PDU_BYTES, resolveDicomOptions, type DicomOptions, type ResolvedDicomOptions } from './constants.js'
import { acceptContext, admission } from './contexts.js'
import { Status, type Association } from './dimse.js'
import { InvalidDicomError } from './errors.js'
import type { Ingestor } from './ingest.js'
import { encodeFileMeta } from './part10/index.js'
import { findRows } from './scp-find.js'
import { serveGet, serveMove } from './scp-retrieve.js'
import type { SliceStore } from './slice-store.js'
import { guardSocket } from './socket.js'

export interface DicomScpComponents {
  logger: ComponentLogger
  registry: Registry
  store: SliceStore
  ingestor: Ingestor
}

export interface DicomScpInit {
  aeTitle: string
  /** Address to bind; never all interfaces unless configured so. */
  host: string
  /** 0 picks a free port (tests); read it back from `port`. */
  port: number
  options?: DicomOptions
}

export class DicomScp {
  readonly aeTitle: string
  readonly options: ResolvedDicomOptions
  private readonly host: string
  private readonly requestedPort: number
  private readonly log: Logger
  private readonly c: DicomScpComponents
  private server?: Server
  private readonly connections = new Set<DimseConnection>()
  private readonly sockets = new Set<Socket>()
  /** Instances being stored: `stop()` lets them finish (the peer gets no answer, but nothing is half-done). */
  private readonly inflight = new Set<Promise<unknown>>()
  /** Instances acknowledged with success since start (tests, metrics). */
  stored = 0

  constructor (components: DicomScpComponents, init: DicomScpInit) {
    this.c = components
    this.aeTitle = init.aeTitle
    this.host = init.host
    this.requestedPort = init.port
    this.options = resolveDicomOptions(init.options)
    this.log = components.logger.forComponent('dm2:dicom:scp')
  }

  /** The bound port (after `start()`). */
  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.requestedPort
  }

  get activeAssociations (): number { return this.connections.size }

  async start (): Promise<void> {
    if (this.server !== undefined) return
    const server = createServer(socket => { this.accept(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: this.host, port: this.requestedPort }, () => { server.off('error', reject); resolve() })
    })
    server.on('error', err => { this.log.error('server error: %s', err.message) })
    this.server = server
    this.log('DICOM SCP %s listening on %s:%d', this.aeTitle, this.host, this.port)
  }

  /** Stops accepting, closes every association, waits for them to end. */
  async stop (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
    for (const s of this.sockets) s.destroy()
    await Promise.allSettled([...this.connections].map(async c => { await c.closed }))
    await Promise.allSettled([...this.inflight])
    await closed
  }

  private accept (socket: Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => { this.sockets.delete(socket) })
    socket.on('error', () => {})
    guardSocket(socket, MAX_INBOUND_PDU_BYTES)
    const conn = new DimseConnection(socket, this.options, { store: this.storeHandler(), server: this.serverHandler() })
    conn.startServerClock()
    this.connections.add(conn)
    conn.closed.then(() => { this.connections.delete(conn) }, () => {})
  }

  private negotiate (association: Association): { reject?: [number, number, number] } {
    const reject = admission({
      calledAeTitle: association.getCalledAeTitle(),
      callingAeTitle: association.getCallingAeTitle(),
      ourAeTitle: this.aeTitle,
      allowedCallingAeTitles: this.options.allowedCallingAeTitles,
      activeAssociations: this.connections.size,
      maxAssociations: this.options.maxAssociations
    })
    if (reject !== undefined) {
      this.log('refused association from %s: reason %d', association.getCallingAeTitle(), reject[2])
      return { reject: [...reject] }
    }
    for (const { context } of association.getPresentationContexts()) {
      const d = acceptContext(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids())
      if (d.result === 0) context.setResult(0, d.transferSyntax)
      else context.setResult(d.result)
    }
    // What we advertise: our own receive limit, whatever the peer's (the
    // connection sends within the peer's).
    association.setMaxPduLength(this.options.maxPduLength)
    association.setNegotiateAsyncOps(false)
    this.log.trace('association from %s', association.getCallingAeTitle())
    return {}
  }

  private storeHandler (): StoreHandler {
    return {
      open: header => this.c.store.createTemp(encodeFileMeta({ ...header, sourceAeTitle: header.peerAeTitle })),
      complete: async (temp, header) => {
        if (temp === undefined) return { status: Status.OutOfResources, comment: 'cannot create a temporary file' }
        const work = this.c.ingestor.ingestTemp(temp, header)
        this.inflight.add(work)
        work.finally(() => this.inflight.delete(work)).catch(() => {})
        try {
          await work
          this.stored++
          return { status: Status.Success }
        } catch (err) {
          if (err instanceof InvalidDicomError) {
            this.log('refused an instance from %s: %s', header.peerAeTitle, err.message)
            return { status: err.status, comment: err.message }
          }
          this.log.error('cannot store an instance: %s', (err as Error).message)
          return { status: Status.OutOfResources, comment: 'storage failure' }
        }
      }
    }
  }

  private serverHandler (): ServerHandler {
    return {
      associate: a => this.negotiate(a),
      find: async (req, pending) => {
        let result
        try {
          result = await findRows(this.c.registry, req.identifier, this.aeTitle, MAX_FIND_RESULTS)
        } catch (err) {
          return { status: Status.IdentifierMismatch, comment: (err as Error).message }
        }
        for (const row of result.rows) {
          if (req.cancelled()) return { status: Status.Cancel }
          pending(row)
        }
        return result.truncated ? { status: Status.OutOfResources, comment: `more than ${MAX_FIND_RESULTS} matches` } : { status: Status.Success }
      },
      get: async (req, conn, pending) => await serveGet(this.c.registry, this.c.store, req, conn, pending),
      move: async (req, destination, pending) => await serveMove({ registry: this.c.registry, store: this.c.store, aeTitle: this.aeTitle, options: this.options }, req, destination, pending)
    }
  }
}
