/**
 * The coordinator's side of the worker processes: forks them (with tsx, so
 * they run the TypeScript sources), sends typed commands and awaits the
 * replies, and stops every worker — politely, then with SIGKILL — whatever
 * happened before.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withThreadpool } from '../../src/config/defaults.js'
import { WORKER_COMMAND_TIMEOUT_MS, WORKER_STOP_TIMEOUT_MS } from './constants.js'
import { WorkerError } from './errors.js'
import type { Command, Ready, Replies, Reply } from './protocol.js'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** The tsx loader, resolved from here so the worker finds it whatever its cwd. */
function tsxLoader (): string {
  try {
    return import.meta.resolve('tsx')
  } catch {
    return 'tsx'
  }
}

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

export class Worker {
  readonly index: number
  private readonly child: ChildProcess
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private exited = false

  private constructor (index: number, child: ChildProcess) {
    this.index = index
    this.child = child
    child.on('message', (msg: Reply | Ready) => {
      if (!('id' in msg)) return
      const p = this.pending.get(msg.id)
      if (p === undefined) return
      this.pending.delete(msg.id)
      clearTimeout(p.timer)
      if (msg.ok) p.resolve(msg.value)
      else p.reject(new WorkerError(index, `${msg.error.name}: ${msg.error.message}`))
    })
    // Send failures are reported to the callback in call(); this keeps them from being thrown.
    child.on('error', () => {})
    child.on('exit', (code, sig) => {
      this.exited = true
      for (const p of this.pending.values()) {
        clearTimeout(p.timer)
        p.reject(new WorkerError(index, `exited (${sig ?? String(code)})`))
      }
      this.pending.clear()
    })
  }

  get pid (): number | undefined { return this.child.pid }

  /** Forks a worker and waits for its ready message. */
  static async spawn (index: number): Promise<Worker> {
    // The worker's stdout goes to our stderr: our stdout ends with the JSON result line.
    const child = fork(WORKER, [], { execArgv: ['--import', tsxLoader(), '--expose-gc'], stdio: ['ignore', 2, 2, 'ipc'], env: withThreadpool() })
    const worker = new Worker(index, child)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new WorkerError(index, 'not ready in time')) }, WORKER_COMMAND_TIMEOUT_MS)
      child.once('message', () => { clearTimeout(timer); resolve() })
      child.once('exit', code => { clearTimeout(timer); reject(new WorkerError(index, `exited at start (${String(code)})`)) })
    }).catch(err => { child.kill('SIGKILL'); throw err })
    return worker
  }

  /** Sends one command; resolves with the worker's reply. */
  async call<C extends Command> (cmd: C, timeoutMs = WORKER_COMMAND_TIMEOUT_MS): Promise<Replies[C['op']]> {
    if (this.exited) throw new WorkerError(this.index, 'has exited')
    const id = this.nextId++
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new WorkerError(this.index, `no reply to ${cmd.op} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.child.send({ ...cmd, id }, err => {
        if (err == null) return
        clearTimeout(timer)
        this.pending.delete(id)
        reject(new WorkerError(this.index, `cannot send ${cmd.op} (${err.message})`))
      })
    })
  }

  /** Stops the worker's nodes and waits for the process to end; kills it if it does not. */
  async stop (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>(resolve => { this.child.once('exit', () => { resolve() }) })
    try {
      await this.call({ op: 'stop' }, WORKER_STOP_TIMEOUT_MS)
      this.child.disconnect()
    } catch {
      this.child.kill('SIGKILL')
    }
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, WORKER_STOP_TIMEOUT_MS)
    await gone
    clearTimeout(timer)
  }

  /** Last resort at process exit: synchronous. */
  kill (): void {
    if (!this.exited) this.child.kill('SIGKILL')
  }
}

/** A set of workers that are all stopped together. */
export class Cluster {
  readonly workers: Worker[]
  private readonly onExit = (): void => { for (const w of this.workers) w.kill() }

  private constructor (workers: Worker[]) {
    this.workers = workers
    process.once('exit', this.onExit)
  }

  static async spawn (count: number): Promise<Cluster> {
    const settled = await Promise.allSettled(Array.from({ length: count }, async (_, i) => await Worker.spawn(i)))
    const workers = settled.flatMap(s => s.status === 'fulfilled' ? [s.value] : [])
    const failed = settled.find(s => s.status === 'rejected')
    if (failed !== undefined) {
      await Promise.all(workers.map(async w => { await w.stop() }))
      throw failed.reason
    }
    return new Cluster(workers)
  }

  worker (index: number): Worker {
    const w = this.workers[index]
    if (w === undefined) throw new RangeError(`no worker ${index}`)
    return w
  }

  async stop (): Promise<void> {
    await Promise.all(this.workers.map(async w => { await w.stop() }))
    process.removeListener('exit', this.onExit)
  }
}
