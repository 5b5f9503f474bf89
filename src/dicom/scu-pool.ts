/**
 * The node as a client of its hospital PACS: a pool of at most N
 * associations (3 by default, as in the paper) shared by every request.
 * Associations are opened on demand, reused while healthy, released after
 * an idle period, and dropped after any failure. Instances that a C-GET
 * brings back on a pooled association go through the ingestor into the
 * slice store, like any other received instance.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { Registry } from '../registry/index.js'
import { DicomAssociation, type Identifier, type RequestOptions, type RetrieveCounts, type RetrieveOptions } from './association.js'
import type { StoreHandler } from './connection.js'
import { resolveDicomOptions, type DicomOptions, type ResolvedDicomOptions } from './constants.js'
import { retrieveProposal } from './contexts.js'
import { Status } from './dimse.js'
import { DicomAbortError, throwIfAborted } from './errors.js'
import type { Ingestor, IngestResult } from './ingest.js'
import { encodeFileMeta } from './part10/index.js'
import type { QueryLevel } from './scp-find.js'
import type { SliceStore } from './slice-store.js'
import { SopClass } from './uids.js'

export interface ScuPoolComponents {
  logger: ComponentLogger
  ingestor: Ingestor
  store: SliceStore
  registry: Registry
}

export interface PacsEndpoint { aeTitle: string, host: string, port: number }

export interface ScuPoolInit {
  /** Our AE title (calling AE; the C-MOVE destination for ourselves). */
  aeTitle: string
  pacs: PacsEndpoint
  options?: DicomOptions
}

/** Called for each instance a C-GET stores (the retrieval in progress on that association). */
export type StoredListener = (result: IngestResult | Error) => void

interface Pooled {
  assoc: DicomAssociation
  listener?: StoredListener
  /** Instances of the current C-GET up to this size are held in memory for the listener (see `get`). */
  holdBytes?: number
  idleTimer?: NodeJS.Timeout
  /** Instances of the current C-GET still being stored (acknowledged to the PACS on arrival). */
  storing: Set<Promise<unknown>>
}

export class ScuPool {
  readonly options: ResolvedDicomOptions
  readonly pacs: PacsEndpoint
  readonly aeTitle: string
  private readonly c: ScuPoolComponents
  private readonly log: Logger
  private readonly idle: Pooled[] = []
  private readonly all = new Set<Pooled>()
  private opening = 0
  private readonly waiters: Array<() => void> = []
  private stopped = false
  /** Instances being stored from C-GETs; `stop()` lets them finish. */
  private readonly inflight = new Set<Promise<unknown>>()

  constructor (components: ScuPoolComponents, init: ScuPoolInit) {
    this.c = components
    this.aeTitle = init.aeTitle
    this.pacs = init.pacs
    this.options = resolveDicomOptions(init.options)
    this.log = components.logger.forComponent('dm2:dicom:scu')
  }

  get size (): number { return this.options.scuPoolSize }
  /** Associations open now (idle or in use). */
  get open (): number { return this.all.size }

  async echo (options: RequestOptions = {}): Promise<void> {
    await this.run(async p => { await p.assoc.echo(options) }, options)
  }

  /** C-FIND at `level` (Patient Root model for PATIENT, Study Root otherwise). */
  async find (identifier: Identifier, options: RequestOptions = {}): Promise<Identifier[]> {
    const level = String(identifier.QueryRetrieveLevel ?? '') as QueryLevel
    const model = level === 'PATIENT' ? SopClass.PatientRootFind : SopClass.StudyRootFind
    return await this.run(async p => await p.assoc.find(model, identifier, options), options)
  }

  /**
   * C-GET; each stored instance is reported to `onStored`. `holdBytes`: an
   * instance up to that size is also kept in memory as it arrives, and
   * reported with its bytes and walk (IngestResult.held), for a listener
   * that reads it at once.
   */
  async get (identifier: Identifier, options: RetrieveOptions & { onStored?: StoredListener, holdBytes?: number } = {}): Promise<RetrieveCounts> {
    return await this.run(async p => {
      if (options.onStored !== undefined) p.listener = options.onStored
      if (options.holdBytes !== undefined) p.holdBytes = options.holdBytes
      try {
        return await p.assoc.get(SopClass.StudyRootGet, identifier, options)
      } finally {
        // Sub-operations are acknowledged on arrival: their storing may still run.
        while (p.storing.size > 0) await Promise.allSettled([...p.storing])
        delete p.listener
        delete p.holdBytes
      }
    }, options)
  }

  /** C-MOVE to `destination` (default: ourselves, received by our SCP). */
  async move (identifier: Identifier, options: RetrieveOptions & { destination?: string } = {}): Promise<RetrieveCounts> {
    return await this.run(async p => await p.assoc.move(SopClass.StudyRootMove, options.destination ?? this.aeTitle, identifier, options), options)
  }

  /** Releases every association and refuses new requests. */
  async stop (): Promise<void> {
    this.stopped = true
    for (const w of this.waiters.splice(0)) w()
    await Promise.allSettled([...this.all].map(async p => {
      clearTimeout(p.idleTimer)
      if (this.idle.includes(p)) await p.assoc.release()
      else p.assoc.abort()
    }))
    this.idle.length = 0
    this.all.clear()
    await Promise.allSettled([...this.inflight])
  }

  /** Runs `fn` on a pooled association, waiting for one if all N are busy. */
  private async run<T> (fn: (p: Pooled) => Promise<T>, options: RequestOptions = {}): Promise<T> {
    const p = await this.acquire(options.signal)
    try {
      return await fn(p)
    } finally {
      this.giveBack(p)
    }
  }

  private async acquire (signal?: AbortSignal): Promise<Pooled> {
    for (;;) {
      if (this.stopped) throw new DicomAbortError('SCU pool stopped')
      throwIfAborted(signal, 'PACS request')
      const idle = this.idle.pop()
      if (idle !== undefined) {
        clearTimeout(idle.idleTimer)
        if (idle.assoc.isOpen) return idle
        this.all.delete(idle)
        continue
      }
      if (this.all.size + this.opening < this.size) return await this.connect(signal)
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(new DicomAbortError('waiting for a PACS association')) }
        signal?.addEventListener('abort', onAbort, { once: true })
        this.waiters.push(() => { signal?.removeEventListener('abort', onAbort); resolve() })
      })
    }
  }

  private async connect (signal?: AbortSignal): Promise<Pooled> {
    this.opening++
    try {
      const pooled: Pooled = { assoc: undefined as unknown as DicomAssociation, storing: new Set() }
      const open: Parameters<typeof DicomAssociation.open>[0] = {
        ...this.options,
        host: this.pacs.host,
        port: this.pacs.port,
        callingAeTitle: this.aeTitle,
        calledAeTitle: this.pacs.aeTitle,
        proposal: retrieveProposal(),
        store: this.storeHandler(pooled)
      }
      if (signal !== undefined) open.signal = signal
      pooled.assoc = await DicomAssociation.open(open)
      this.all.add(pooled)
      pooled.assoc.closed.then(() => { this.all.delete(pooled) }, () => {})
      this.log.trace('opened association %d/%d to %s', this.all.size, this.size, this.pacs.aeTitle)
      return pooled
    } finally {
      this.opening--
    }
  }

  private giveBack (p: Pooled): void {
    if (p.assoc.isOpen && !this.stopped) {
      p.idleTimer = setTimeout(() => {
        const i = this.idle.indexOf(p)
        if (i >= 0) this.idle.splice(i, 1)
        this.all.delete(p)
        p.assoc.release().catch(() => {})
      }, this.options.idleReleaseMs)
      this.idle.push(p)
    } else {
      this.all.delete(p)
    }
    this.waiters.shift()?.()
  }

  /**
   * C-STORE sub-operations of our C-GETs. A cache fill: the PACS keeps the
   * master copy, so nothing is flushed (see SliceStore), and each instance is
   * acknowledged as soon as it has arrived whole, while it is inspected,
   * renamed into place and registered: the PACS sends the next one meanwhile
   * instead of waiting for our bookkeeping. Success for the retrieval is what
   * the listener hears (each instance stored, or its error), never the PACS's
   * counts: an instance refused after its acknowledgement (not valid DICOM,
   * disk full) is missing from the retrieval, asked for again on its own,
   * and fails it with a typed error if it fails again. When the C-GET asks
   * for it (`holdBytes`), a small instance is held in memory as it arrives,
   * and the listener gets its bytes and walk with the result.
   */
  private storeHandler (p: Pooled): StoreHandler {
    return {
      open: header => this.c.store.createTemp(encodeFileMeta({ ...header, sourceAeTitle: header.peerAeTitle }), { durable: false, ...(p.holdBytes === undefined ? {} : { holdBytes: p.holdBytes }) }),
      complete: async (temp, header) => {
        if (temp === undefined) return { status: Status.OutOfResources, comment: 'cannot create a temporary file' }
        const listener = p.listener
        const work = this.c.ingestor.ingestTemp(temp, header, { durable: false }).then(
          result => { listener?.(result) },
          (err: unknown) => { listener?.(err as Error) }
        )
        this.inflight.add(work)
        p.storing.add(work)
        work.finally(() => { this.inflight.delete(work); p.storing.delete(work) }).catch(() => {})
        return { status: Status.Success }
      }
    }
  }
}
