/**
 * The node side of the local control channel: a Unix domain socket in the
 * data directory, mode 0600 in a 0700 folder, so only the account that runs
 * the node can drive it (as with the Docker or PostgreSQL sockets). The CLI
 * talks to a running node through it instead of opening its database.
 */
import { chmod, rm } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Logger } from '@libp2p/interface'
import { ControlSocketInUseError } from './errors.js'
import { line, LineReader } from './wire.js'

export interface CallContext {
  signal: AbortSignal
  progress: (event: unknown) => void
}

export type ControlHandler = (params: unknown, context: CallContext) => Promise<unknown>

export interface ControlServerInit {
  socketPath: string
  handlers: Record<string, ControlHandler>
  log: Logger
}

async function socketAlive (path: string): Promise<boolean> {
  return await new Promise(resolve => {
    const s = connect(path)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { resolve(false) })
  })
}

export class ControlServer {
  private readonly init: ControlServerInit
  private server?: Server
  private readonly sockets = new Set<Socket>()

  constructor (init: ControlServerInit) {
    this.init = init
  }

  async start (): Promise<void> {
    const { socketPath } = this.init
    if (await socketAlive(socketPath)) throw new ControlSocketInUseError(socketPath)
    // A socket file left by a crashed node.
    await rm(socketPath, { force: true })
    const server = createServer(socket => { this.serve(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(socketPath, () => { server.off('error', reject); resolve() })
    })
    await chmod(socketPath, 0o600)
    this.server = server
  }

  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    if (server !== undefined) await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    await rm(this.init.socketPath, { force: true })
  }

  private serve (socket: Socket): void {
    this.sockets.add(socket)
    const reader = new LineReader()
    const calls = new Map<number, AbortController>()
    const send = (text: string): void => { if (!socket.destroyed) socket.write(text) }
    socket.on('data', chunk => {
      let messages
      try {
        messages = reader.push(chunk)
      } catch (err) {
        this.init.log('control client sent a bad message: %s', (err as Error).message)
        socket.destroy()
        return
      }
      for (const m of messages) {
        if ('cancel' in m) { calls.get(m.id)?.abort(); continue }
        if (!('method' in m) || typeof m.method !== 'string') continue
        const handler = Object.hasOwn(this.init.handlers, m.method) ? this.init.handlers[m.method] : undefined
        if (handler === undefined) {
          send(line({ id: m.id, error: { name: 'UnknownCommandError', message: `unknown command ${m.method}` } }))
          continue
        }
        const controller = new AbortController()
        calls.set(m.id, controller)
        handler(m.params, { signal: controller.signal, progress: p => { send(line({ id: m.id, progress: p })) } })
          .then(result => { send(line({ id: m.id, result: result ?? null })) },
            (err: Error) => { send(line({ id: m.id, error: { name: err.name, message: err.message } })) })
          .finally(() => calls.delete(m.id))
      }
    })
    socket.on('close', () => {
      // A client that goes away cancels what it asked for.
      for (const c of calls.values()) c.abort()
      this.sockets.delete(socket)
    })
    socket.on('error', () => {})
  }
}
