/** The CLI side of the local control channel. */
import { connect, type Socket } from 'node:net'
import { ControlCallError, ControlProtocolError, NodeNotRunningError } from './errors.js'
import { line, LineReader } from './wire.js'

export interface CallOptions {
  signal?: AbortSignal
  onProgress?: (event: unknown) => void
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  onProgress?: (event: unknown) => void
}

export class ControlClient {
  private readonly socket: Socket
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  private constructor (socket: Socket) {
    this.socket = socket
    const reader = new LineReader()
    socket.on('data', chunk => {
      let messages
      try {
        messages = reader.push(chunk)
      } catch (err) {
        this.fail(err as Error)
        return
      }
      for (const m of messages) {
        const p = this.pending.get(m.id)
        if (p === undefined) continue
        if ('progress' in m) p.onProgress?.(m.progress)
        else if ('result' in m) { this.pending.delete(m.id); p.resolve(m.result) } else if ('error' in m) { this.pending.delete(m.id); p.reject(new ControlCallError(String(m.error.name), String(m.error.message))) }
      }
    })
    socket.on('close', () => { this.fail(new ControlProtocolError('the node closed the control channel')) })
    socket.on('error', () => {})
  }

  static async connect (socketPath: string): Promise<ControlClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath)
      s.once('connect', () => { resolve(s) })
      s.once('error', () => { reject(new NodeNotRunningError(socketPath)) })
    })
    return new ControlClient(socket)
  }

  private fail (err: Error): void {
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  async call<T = unknown> (method: string, params: unknown = {}, options: CallOptions = {}): Promise<T> {
    const id = this.nextId++
    const result = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, options.onProgress === undefined ? { resolve, reject } : { resolve, reject, onProgress: options.onProgress })
    })
    const onAbort = (): void => { this.socket.write(line({ id, cancel: true })) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    this.socket.write(line({ id, method, params }))
    try {
      return await result as T
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  close (): void {
    this.socket.end()
  }
}
