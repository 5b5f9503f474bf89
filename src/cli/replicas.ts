/**
 * `dm2 locate <lfn>` and `dm2 replicate <lfn> --to <site>`: the running
 * node's replica manager, through its control channel (the node serves them
 * with `replicaControlHandlers` from src/replicas/control.ts).
 */
import type { Command } from 'commander'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import type { LocateResult } from '../replicas/index.js'
import { connectToNode } from './status.js'

export function registerReplicas (program: Command): void {
  program.command('locate <lfn>')
    .description('where an LFN lives: its master, current version and the sites holding it (fastest first)')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--json', 'print JSON')
    .action(async (lfn: string, opts: { config: string, json?: boolean }) => {
      const client = await connectToNode(opts.config)
      let result: LocateResult
      try {
        result = await client.call<LocateResult>('replicas.locate', { lfn })
      } finally {
        client.close()
      }
      if (opts.json === true) {
        console.log(JSON.stringify(result, null, 2))
        return
      }
      console.log(`${result.lfn}  v${result.version}  content ${result.contentId}`)
      console.log(`master   ${result.master}`)
      if (result.holders.length === 0) console.log('holders  (none announced)')
      for (const h of result.holders) console.log(`${h.master ? 'master ' : 'replica'}  ${h.peer}  ${h.rttMs === undefined ? 'unreachable' : `${h.rttMs} ms`}`)
    })
  program.command('replicate <lfn>')
    .description('place a replica of an LFN this site masters on a storage site')
    .requiredOption('--to <site>', 'peer id of the storage site')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .action(async (lfn: string, opts: { config: string, to: string }) => {
      const client = await connectToNode(opts.config)
      try {
        const r = await client.call<{ lfn: string, version: number, site: string, fetched: number }>('replicas.replicate', { lfn, to: opts.to })
        console.log(`${r.lfn} v${r.version} now held by ${r.site} (${r.fetched} chunks transferred)`)
      } finally {
        client.close()
      }
    })
}
