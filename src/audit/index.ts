/**
 * The access audit log: every allow and deny, hash-chained, durably written,
 * with a signed head. Logs name LFNs, key ids and peer ids, never patient data.
 *
 * @example
 * ```ts
 * const audit = new AuditLog({ store: db.sublevel('audit', { valueEncoding: 'view' }), signer })
 * await audit.append({ decision: 'deny', reason: 'EXPIRED', command: 'chunks/get', resource: lfn, chain: ids })
 * const report = await audit.verify()   // { ok, entries, head, problems }
 * ```
 */
export * from './errors.js'
export { type AuditDecision, type AuditEntry, type StoredEntry } from './entry.js'
export { AuditLog, type AuditLogInit, type AuditStore, type AuditSigner, type AuditHead, type AuditProblem, type AuditVerification } from './log.js'
export { auditControlHandlers, DEFAULT_AUDIT_LIST_LIMIT, MAX_AUDIT_LIST_LIMIT, type AuditListResult } from './control.js'
