/** `dm2 federation local`: N hospital nodes on 127.0.0.1, and who found whom. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_LOCAL_HOSPITALS, type LogLevel } from '../config/defaults.js'
import { setLogLevel } from '../log/index.js'
import { startLocalFederation, type LocalFederation } from '../node/local-federation.js'
import { discoveryMatrix, waitForRoutingTables } from '../node/discovery.js'
import { parseLogLevel, parsePositiveInt } from './options.js'
import { forever, onShutdownSignals } from './shutdown.js'
import { registerRoster } from './roster.js'
import { runCardiologistScenario } from './scenario.js'
import { formatMatrix } from './table.js'

interface LocalOptions {
  hospitals: number
  dir?: string
  logLevel: LogLevel
  duration?: number
  scenario: boolean
}

export function registerFederation (program: Command): void {
  const federation = program.command('federation').description('federation-wide commands')
  registerRoster(federation)
  federation.command('local')
    .description('start a federation of N hospital nodes on 127.0.0.1 and print who found whom')
    .option('--hospitals <n>', 'number of hospitals', parsePositiveInt, DEFAULT_LOCAL_HOSPITALS)
    .option('--dir <dir>', 'keep the hospitals\' data here (default: a temporary folder, removed on exit)')
    .option('--log-level <level>', 'silent, error, info, debug or trace', parseLogLevel, 'error')
    .option('--no-scenario', 'only start the federation; skip the cardiologist scenario')
    .option('--duration <seconds>', 'stop by itself after this many seconds (default: run until Ctrl-C)', parsePositiveInt)
    .action(async (opts: LocalOptions) => {
      setLogLevel(opts.logLevel)
      const root = opts.dir === undefined ? await mkdtemp(join(tmpdir(), 'dm2-local-')) : resolve(opts.dir)
      const controller = new AbortController()
      let fed: LocalFederation | undefined
      const stop = async (): Promise<void> => {
        controller.abort()
        await fed?.stop()
        if (opts.dir === undefined) await rm(root, { recursive: true, force: true })
      }
      const shutdown = onShutdownSignals(stop)
      try {
        const started = Date.now()
        fed = await startLocalFederation({ root, hospitals: opts.hospitals, signal: controller.signal })
        for (const node of fed.nodes) {
          console.log(`${node.config.name}  ${node.getMultiaddrs()[0]?.toString() ?? ''}`)
        }
        console.log(`${fed.nodes.length} hospitals up in ${Date.now() - started} ms; waiting for the DHT to form…`)
        await waitForRoutingTables(fed.nodes, { signal: controller.signal })
        const matrix = await discoveryMatrix(fed.nodes, { signal: controller.signal })
        console.log('\nwho found whom (DHT findPeer; ms, or ✗):')
        console.log(formatMatrix(matrix))
        const total = matrix.cells.length
        const ok = matrix.cells.filter(c => c.found).length
        console.log(`\n${ok}/${total} lookups succeeded; data in ${root}${opts.dir === undefined ? ' (removed on exit)' : ''}`)
        if (opts.scenario !== false) {
          console.log('\ncardiologist scenario:')
          await runCardiologistScenario(fed.nodes, root, s => {
            console.log(`  ${s.step.padEnd(15)} ${s.ms.toFixed(0).padStart(6)} ms  ${s.detail}`)
          }, controller.signal)
        }
      } catch (err) {
        if (shutdown.requested) return await forever()
        await stop()
        throw err
      }
      if (opts.duration !== undefined) {
        setTimeout(() => { process.kill(process.pid, 'SIGINT') }, opts.duration * 1000).unref()
      }
      console.log('federation running; press Ctrl-C to stop')
      await forever()
    })
}
