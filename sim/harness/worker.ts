/**
 * Entry point of a hospital's process — its node, or its PACS:
 * `node --import tsx sim/harness/worker.ts`, driven over the IPC channel by
 * the orchestrator (see processes.ts). The process leaves when told to, on
 * SIGTERM, or as soon as its parent is gone. Not to be imported.
 */
import '../../src/polyfill.js'
import { openWorker, runCommand, type FromWorker, type Opened, type ToWorker } from './site-protocol.js'
import { bindProcessTo } from './source-address.js'

let site: Opened | undefined
let closing: Promise<void> | undefined

function send (message: FromWorker): void {
  if (process.connected) process.send?.(message)
}

async function leave (code: number): Promise<never> {
  closing ??= (async () => { await site?.close() })()
  await closing.catch(() => {})
  process.exit(code)
}

if (process.send !== undefined) {
  process.on('disconnect', () => { leave(1).catch(() => {}) })
  process.on('SIGTERM', () => { leave(0).catch(() => {}) })
  process.on('message', (raw) => {
    const message = raw as ToWorker
    if (message.type === 'init') {
      bindProcessTo(message.address)
      openWorker(message.worker).then(s => {
        site = s
        send({ type: 'ready' })
      }, (err: Error) => {
        send({ type: 'failed', name: err.name, message: err.message })
        leave(1).catch(() => {})
      })
    } else if (message.type === 'call') {
      const { id, command, args } = message
      if (site === undefined) {
        send({ type: 'result', id, ok: false, name: 'SiteNotReady', message: 'the site has not started' })
        return
      }
      runCommand(site, command, args).then(value => { send({ type: 'result', id, ok: true, value }) },
        (err: Error) => { send({ type: 'result', id, ok: false, name: err.name, message: err.message }) })
    } else if (message.type === 'stop') {
      leave(0).catch(() => {})
    }
  })
}
