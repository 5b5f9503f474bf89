/** Errors of the audit log. Tests assert on `err.name`. */

/** An entry to append is malformed (unknown decision, oversized field). */
export class AuditEntryError extends Error {
  static override name = 'AuditEntryError'

  constructor (message: string) {
    super(message)
    this.name = 'AuditEntryError'
  }
}
