/**
 * Status codes carried in every protocol's responses, and the typed errors a
 * caller gets for them. An exception's text never crosses to another hospital:
 * only the code (and, for DENIED, the access-control reason code) does.
 */

export const STATUSES = ['OK', 'NOT_FOUND', 'DENIED', 'BUSY', 'INVALID', 'ERROR'] as const
export type Status = typeof STATUSES[number]

export function isStatus (value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value)
}

/** The remote peer answered with a status other than OK. */
export class RemoteStatusError extends Error {
  static override name = 'RemoteStatusError'
  readonly status: Exclude<Status, 'OK'>
  /** Machine-readable reason (e.g. an access-control reason code), never free text. */
  readonly reason?: string

  constructor (status: Exclude<Status, 'OK'>, reason?: string, name = 'RemoteStatusError') {
    super(`remote answered ${status}${reason === undefined ? '' : ` (${reason})`}`)
    this.name = name
    this.status = status
    if (reason !== undefined) this.reason = reason
  }
}

export class NotFoundError extends RemoteStatusError {
  static override name = 'NotFoundError'
  constructor (reason?: string) { super('NOT_FOUND', reason, 'NotFoundError') }
}

export class DeniedError extends RemoteStatusError {
  static override name = 'DeniedError'
  constructor (reason?: string) { super('DENIED', reason, 'DeniedError') }
}

export class BusyError extends RemoteStatusError {
  static override name = 'BusyError'
  constructor (reason?: string) { super('BUSY', reason, 'BusyError') }
}

export class InvalidRequestError extends RemoteStatusError {
  static override name = 'InvalidRequestError'
  constructor (reason?: string) { super('INVALID', reason, 'InvalidRequestError') }
}

export class RemoteError extends RemoteStatusError {
  static override name = 'RemoteError'
  constructor (reason?: string) { super('ERROR', reason, 'RemoteError') }
}

/** The typed error for a non-OK status. */
export function statusError (status: Exclude<Status, 'OK'>, reason?: string): RemoteStatusError {
  switch (status) {
    case 'NOT_FOUND': return new NotFoundError(reason)
    case 'DENIED': return new DeniedError(reason)
    case 'BUSY': return new BusyError(reason)
    case 'INVALID': return new InvalidRequestError(reason)
    case 'ERROR': return new RemoteError(reason)
  }
}

/** A peer broke the protocol: bad frame, oversized frame, wrong order, bad data. */
export class ProtocolError extends Error {
  static override name = 'ProtocolError'

  constructor (message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}
