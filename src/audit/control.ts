/**
 * The audit log on a node's control channel: `audit.list` `{ from?, limit? }`
 * → entries in order; `audit.verify` → the chain check's report. The CLI
 * reads the log this way and never opens the node's database.
 */
import type { ControlHandler } from '../control/index.js'
import type { AuditLog, AuditVerification } from './log.js'
import type { StoredEntry } from './entry.js'

export const DEFAULT_AUDIT_LIST_LIMIT = 100
/** Entries per call; a control message is at most 1 MiB and an entry under 2 KiB. */
export const MAX_AUDIT_LIST_LIMIT = 400

export interface AuditListResult {
  entries: StoredEntry[]
  /** Sequence number to ask for next, when there may be more. */
  next?: number
}

class AuditParamsError extends Error {
  static override name = 'AuditParamsError'

  constructor (message: string) {
    super(message)
    this.name = 'AuditParamsError'
  }
}

function intParam (params: unknown, name: string, fallback: number, max: number): number {
  const value = (params !== null && typeof params === 'object' ? (params as Record<string, unknown>)[name] : undefined) ?? fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) throw new AuditParamsError(`${name} must be an integer 1…${max}`)
  return value
}

/** `audit.list` `{ from?, limit? }` → entries in order; `audit.verify` → the chain check's report. */
export function auditControlHandlers (audit: AuditLog): Record<string, ControlHandler> {
  return {
    'audit.list': async (params, { signal }): Promise<AuditListResult> => {
      const from = intParam(params, 'from', 1, Number.MAX_SAFE_INTEGER)
      const limit = intParam(params, 'limit', DEFAULT_AUDIT_LIST_LIMIT, MAX_AUDIT_LIST_LIMIT)
      const entries: StoredEntry[] = []
      for await (const stored of audit.entries(from)) {
        signal.throwIfAborted()
        if (entries.length === limit) return { entries, next: stored.entry.seq }
        entries.push(stored)
      }
      return { entries }
    },
    'audit.verify': async (): Promise<AuditVerification> => await audit.verify()
  }
}
