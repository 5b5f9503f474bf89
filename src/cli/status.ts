/** `dm2 status`: asks a running node how it is, over its control channel. */
import { join } from 'node:path'
import type { Command } from 'commander'
import { CONFIG_FILE_NAME, CONTROL_SOCKET_NAME } from '../config/defaults.js'
import { loadConfig } from '../config/load.js'
import { ControlClient } from '../control/index.js'

/** Connects to the node that `--config` describes. */
export async function connectToNode (configFile: string): Promise<ControlClient> {
  const config = await loadConfig({ file: configFile })
  return await ControlClient.connect(join(config.dataDir, CONTROL_SOCKET_NAME))
}

export function registerStatus (program: Command): void {
  program.command('status')
    .description('show a running node\'s identity, peers, connections, cache use and queue')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--json', 'print JSON')
    .action(async (opts: { config: string, json?: boolean }) => {
      const client = await connectToNode(opts.config)
      try {
        const status = await client.call<Record<string, unknown>>('status')
        if (opts.json === true) {
          console.log(JSON.stringify(status, null, 2))
          return
        }
        for (const [k, v] of Object.entries(status)) {
          console.log(`${k.padEnd(20)} ${Array.isArray(v) ? v.join('\n' + ' '.repeat(21)) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        }
      } finally {
        client.close()
      }
    })
}
