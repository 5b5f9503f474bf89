/**
 * Compensations: the handler registry, by kind, so that the journal can be
 * replayed after a crash by a process that never saw the original closures.
 */
import type { Logger } from '@libp2p/interface'
import { KIND_PATTERN, MAX_COMPENSATION_DATA_BYTES, MAX_NAME_LENGTH } from './constants.js'
import { TxDefinitionError, UnknownCompensationError } from './errors.js'
import type { Compensation, CompensationHandler, CompensationOptions, StepRef } from './types.js'

interface Registered {
  handler: CompensationHandler<unknown>
  parse?: (data: unknown) => unknown
}

export function checkKind (kind: string, what: string): void {
  if (kind.length > MAX_NAME_LENGTH || !KIND_PATTERN.test(kind)) throw new TxDefinitionError(`malformed ${what} kind "${kind}"`)
}

/** JSON-encodes compensation data, refusing what would not survive the journal intact. */
export function encodeData (data: unknown, limit = MAX_COMPENSATION_DATA_BYTES): string {
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (err) {
    throw new TxDefinitionError(`compensation data is not JSON: ${(err as Error).message}`)
  }
  if (json === undefined) throw new TxDefinitionError('compensation data is not JSON')
  if (Buffer.byteLength(json) > limit) throw new TxDefinitionError(`compensation data over ${limit} bytes`)
  return json
}

export class CompensationRegistry {
  private readonly handlers = new Map<string, Registered>()

  register<T>(kind: string, handler: CompensationHandler<T>, options: CompensationOptions<T> = {}): Compensation<T> {
    checkKind(kind, 'compensation')
    if (this.handlers.has(kind)) throw new TxDefinitionError(`compensation kind "${kind}" registered twice`)
    const entry: Registered = { handler: handler as CompensationHandler<unknown> }
    if (options.parse !== undefined) entry.parse = options.parse
    this.handlers.set(kind, entry)
    return { kind }
  }

  has (kind: string): boolean { return this.handlers.has(kind) }

  async run (kind: string, data: unknown, txId: string, step: StepRef, log: Logger): Promise<void> {
    const entry = this.handlers.get(kind)
    if (entry === undefined) throw new UnknownCompensationError(kind)
    const value = entry.parse === undefined ? data : entry.parse(data)
    await entry.handler(value, { txId, step, log })
  }
}
