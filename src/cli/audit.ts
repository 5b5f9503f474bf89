/**
 * `dm2 audit list|verify`: the running node's access audit log, read through
 * its control channel (the CLI never opens the node's database); the node
 * serves it with `auditControlHandlers` from src/audit/control.ts.
 */
import type { Command } from 'commander'
import { DEFAULT_AUDIT_LIST_LIMIT, MAX_AUDIT_LIST_LIMIT, type AuditListResult, type AuditVerification, type StoredEntry } from '../audit/index.js'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import { parsePositiveInt } from './options.js'
import { connectToNode } from './status.js'

function line (e: StoredEntry['entry']): string {
  const time = new Date(e.time).toISOString()
  const who = e.requester === undefined ? '-' : `${e.requester.slice(0, 16)}…`
  return `${String(e.seq).padStart(6)}  ${time}  ${e.decision.padEnd(5)}  ${e.reason.padEnd(18)}  ${e.command.padEnd(14)}  ${(e.resource ?? '-').padEnd(20)}  ${who}  ${e.remotePeer ?? '-'}`
}

export function registerAudit (program: Command): void {
  const audit = program.command('audit').description('the node\'s access audit log (every allow and deny, hash-chained)')
  audit.command('list')
    .description('print audit entries in order')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--from <seq>', 'first sequence number', parsePositiveInt, 1)
    .option('--limit <n>', 'at most this many entries', parsePositiveInt, DEFAULT_AUDIT_LIST_LIMIT)
    .option('--json', 'print JSON lines, one entry each')
    .action(async (opts: { config: string, from: number, limit: number, json?: boolean }) => {
      const client = await connectToNode(opts.config)
      try {
        let from: number | undefined = opts.from
        let left = opts.limit
        if (opts.json !== true) console.log(`${'seq'.padStart(6)}  ${'time'.padEnd(24)}  ${'dec.'.padEnd(5)}  ${'reason'.padEnd(18)}  ${'command'.padEnd(14)}  ${'resource'.padEnd(20)}  requester          peer`)
        while (from !== undefined && left > 0) {
          const page: AuditListResult = await client.call<AuditListResult>('audit.list', { from, limit: Math.min(left, MAX_AUDIT_LIST_LIMIT) })
          for (const { entry, hash } of page.entries) console.log(opts.json === true ? JSON.stringify({ ...entry, hash }) : line(entry))
          left -= page.entries.length
          from = page.next
        }
      } finally {
        client.close()
      }
    })
  audit.command('verify')
    .description('recompute the hash chain: report altered, missing or re-linked entries (exit 1 if any)')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--json', 'print JSON')
    .action(async (opts: { config: string, json?: boolean }) => {
      const client = await connectToNode(opts.config)
      let report: AuditVerification
      try {
        report = await client.call<AuditVerification>('audit.verify')
      } finally {
        client.close()
      }
      if (opts.json === true) console.log(JSON.stringify(report, null, 2))
      else {
        console.log(`${report.entries} entries; head ${report.head === undefined ? '(none)' : `#${report.head.seq} ${report.head.hash}`}`)
        for (const p of report.problems) console.log(`problem: ${p.kind}${'seq' in p ? ` at #${p.seq}` : ''}`)
      }
      if (!report.ok) throw new Error(`the audit log does not verify: ${report.problems.length} problem(s)`)
      if (opts.json !== true) console.log('ok: the chain is intact (record the head elsewhere to detect a whole-log rollback)')
    })
}
