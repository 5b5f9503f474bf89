/** `dm2 node --config <file>`: runs one hospital node until SIGINT/SIGTERM. */
import type { Command } from 'commander'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import { loadConfig, type ConfigOverride } from '../config/load.js'
import { setLogLevel } from '../log/index.js'
import { clientControlHandlers } from '../api/index.js'
import { createHospitalNode } from '../node/index.js'
import { collect, parseLogLevel, parsePort } from './options.js'
import { forever, onShutdownSignals } from './shutdown.js'

interface NodeOptions {
  config: string
  listen?: string[]
  bootstrap?: string[]
  dataDir?: string
  dicomPort?: number
  aeTitle?: string
  logLevel?: string
}

/** Turns the flags that were given into config overrides, each naming its flag. */
function flagOverrides (opts: NodeOptions): ConfigOverride[] {
  const out: ConfigOverride[] = []
  const add = (flag: string, path: string[], value: unknown): void => {
    if (value !== undefined) out.push({ path, value, source: `flag --${flag}` })
  }
  add('listen', ['listen'], opts.listen)
  add('bootstrap', ['bootstrap'], opts.bootstrap)
  add('data-dir', ['dataDir'], opts.dataDir)
  add('dicom-port', ['dicom', 'port'], opts.dicomPort)
  add('ae-title', ['dicom', 'aeTitle'], opts.aeTitle)
  add('log-level', ['log', 'level'], opts.logLevel)
  return out
}

export function registerNode (program: Command): void {
  program.command('node')
    .description('run one hospital node (stops cleanly on Ctrl-C / SIGTERM)')
    .option('-c, --config <file>', 'the hospital\'s config file (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .option('--listen <multiaddr>', 'listen address, repeatable (replaces the config\'s)', collect)
    .option('--bootstrap <multiaddr>', 'bootstrap peer, repeatable (replaces the config\'s)', collect)
    .option('--data-dir <dir>', 'data directory')
    .option('--dicom-port <n>', 'DICOM port of the node', parsePort)
    .option('--ae-title <title>', 'AE title of the node as a DICOM server')
    .option('--log-level <level>', 'silent, error, info, debug or trace', parseLogLevel)
    .addHelpText('after', '\nPrecedence: flags > DM2_* environment variables > config file > defaults.')
    .action(async (opts: NodeOptions) => {
      const config = await loadConfig({ file: opts.config, overrides: flagOverrides(opts) })
      setLogLevel(config.log.level)
      const node = createHospitalNode(config)
      // The user commands (dm2 query, dm2 get) run here, for the local CLI.
      Object.assign(node.controlHandlers, clientControlHandlers(node))
      const shutdown = onShutdownSignals(async () => { await node.stop() })
      try {
        await node.start()
      } catch (err) {
        if (shutdown.requested) return await forever()
        throw err
      }
      console.log(`hospital:  ${config.name}`)
      console.log(`peer id:   ${node.peerId.toString()}`)
      for (const addr of node.getMultiaddrs()) console.log(`listening: ${addr.toString()}`)
      console.log(`members:   ${config.members.length}, bootstrap peers: ${config.bootstrap.length}`)
      await forever()
    })
}
