/**
 * Errors of the DICOM edge. Tests assert on `err.name`. No message carries
 * patient data: at most UIDs' roles, tags, AE titles and status codes.
 */

/** A file or received data set is not acceptable DICOM; `status` is the C-STORE status to answer with. */
export class InvalidDicomError extends Error {
  static override name = 'InvalidDicomError'
  /** DIMSE status for a C-STORE reply: 0xC000 cannot understand, 0xA900 SOP class mismatch (PS3.4 B.2.3). */
  readonly status: number

  constructor (reason: string, status = 0xC000) {
    super(reason)
    this.name = 'InvalidDicomError'
    this.status = status
  }
}

/** A DIMSE operation ended with a failure status (PS3.7 Annex C). */
export class DicomStatusError extends Error {
  static override name = 'DicomStatusError'
  readonly operation: string
  readonly status: number
  readonly comment?: string

  constructor (operation: string, status: number, comment?: string) {
    super(`${operation} failed with status 0x${status.toString(16).padStart(4, '0')}${comment === undefined || comment === '' ? '' : ` (${comment})`}`)
    this.name = 'DicomStatusError'
    this.operation = operation
    this.status = status
    if (comment !== undefined) this.comment = comment
  }
}

/** The peer rejected the association (PS3.8 §9.3.4: result, source, reason). */
export class AssociationRejectedError extends Error {
  static override name = 'AssociationRejectedError'
  readonly result: number
  readonly source: number
  readonly reason: number

  constructor (result: number, source: number, reason: number) {
    super(`association rejected (result ${result}, source ${source}, reason ${reason})`)
    this.name = 'AssociationRejectedError'
    this.result = result
    this.source = source
    this.reason = reason
  }
}

/** The peer aborted the association (A-ABORT, PS3.8 §9.3.8) or closed the connection mid-operation. */
export class AssociationAbortedError extends Error {
  static override name = 'AssociationAbortedError'

  constructor (detail: string) {
    super(`association aborted: ${detail}`)
    this.name = 'AssociationAbortedError'
  }
}

/** The TCP connection failed or broke. */
export class DicomNetworkError extends Error {
  static override name = 'DicomNetworkError'

  constructor (detail: string) {
    super(detail)
    this.name = 'DicomNetworkError'
  }
}

/** An association or request took longer than its timeout. */
export class DicomTimeoutError extends Error {
  static override name = 'DicomTimeoutError'
  readonly ms: number

  constructor (what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`)
    this.name = 'DicomTimeoutError'
    this.ms = ms
  }
}

/** The caller's AbortSignal fired. */
export class DicomAbortError extends Error {
  static override name = 'DicomAbortError'

  constructor (what: string) {
    super(`${what} aborted`)
    this.name = 'DicomAbortError'
  }
}

/** The peer accepted no presentation context for what we need to send. */
export class NoPresentationContextError extends Error {
  static override name = 'NoPresentationContextError'
  readonly sopClassUid: string

  constructor (sopClassUid: string, transferSyntaxUid?: string) {
    super(`no accepted presentation context for ${sopClassUid}${transferSyntaxUid === undefined ? '' : ` in ${transferSyntaxUid}`}`)
    this.name = 'NoPresentationContextError'
    this.sopClassUid = sopClassUid
  }
}

/** A C-MOVE named a destination AE that is not in the configured destinations. */
export class MoveDestinationUnknownError extends Error {
  static override name = 'MoveDestinationUnknownError'
  readonly aeTitle: string

  constructor (aeTitle: string) {
    super(`unknown C-MOVE destination ${JSON.stringify(aeTitle)}`)
    this.name = 'MoveDestinationUnknownError'
    this.aeTitle = aeTitle
  }
}

/** An SCU operation needs `pacs` in the configuration. */
export class PacsNotConfiguredError extends Error {
  static override name = 'PacsNotConfiguredError'

  constructor () {
    super('no PACS configured (set pacs.aeTitle, pacs.host and pacs.port)')
    this.name = 'PacsNotConfiguredError'
  }
}

/** A C-FIND identifier or query that cannot be answered (bad level, bad key). */
export class InvalidQueryError extends Error {
  static override name = 'InvalidQueryError'

  constructor (detail: string) {
    super(detail)
    this.name = 'InvalidQueryError'
  }
}

/** `start()` was not called, or `stop()` was. */
export class DicomServiceStoppedError extends Error {
  static override name = 'DicomServiceStoppedError'

  constructor (what: string) {
    super(`${what} is not running`)
    this.name = 'DicomServiceStoppedError'
  }
}

/** Throws DicomTimeoutError or DicomAbortError if `signal` has fired (AbortSignal.timeout reasons are TimeoutErrors). */
export function throwIfAborted (signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted !== true) return
  const reason = signal.reason as { name?: string } | undefined
  if (reason?.name === 'TimeoutError') throw new DicomTimeoutError(what, 0)
  throw new DicomAbortError(what)
}
