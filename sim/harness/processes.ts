/**
 * Hospitals as seen from the orchestrator: a `SiteHandle` runs the commands of
 * one hospital, either in a child process of its own (the default: the
 * hospitals then use both cores, and a crash is a real SIGKILL) or in this
 * process (one core for everything; for comparison). Every child is killed
 * when this process exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { withThreadpool } from '../../src/config/defaults.js'
import { SITE_COMMAND_TIMEOUT_MS, SITE_START_TIMEOUT_MS, SITE_STOP_TIMEOUT_MS } from './constants.js'
import { SiteCommandError, SiteProcessError } from './errors.js'
import type { HospitalCommands } from './hospital-site.js'
import type { NetworkCommands } from './network-site.js'
import type { PacsCommands } from './pacs-site.js'
import { runAsSite } from './source-address.js'
import { openWorker, runCommand, type FromWorker, type ToWorker, type WorkerInit } from './site-protocol.js'

/** Commands are functions of one (optional) JSON argument. */
type CommandSet = HospitalCommands | PacsCommands | NetworkCommands
type Args<C, K extends keyof C> = C[K] extends (a: infer A) => unknown ? A : never
type Result<C, K extends keyof C> = C[K] extends (...a: never[]) => Promise<infer R> ? R : never

export interface SiteHandle<C extends CommandSet = HospitalCommands> {
  readonly name: string
  readonly alive: boolean
  /** Runs a command at the site. */
  call: <K extends keyof C & string>(command: K, args?: Args<C, K>, timeoutMs?: number) => Promise<Result<C, K>>
  /** Stops the hospital cleanly. */
  stop: () => Promise<void>
  /** Ends it at once, as a crash would (SIGKILL for a process). */
  kill: () => Promise<void>
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

const children = new Set<ChildProcess>()
let hooked = false

/** Kills every hospital process still running (also called on exit). */
export function killAllSites (): void {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
}

function hookExit (): void {
  if (hooked) return
  hooked = true
  // On a signal the children see their IPC channel close and leave by themselves (worker.ts).
  process.on('exit', killAllSites)
}

/** A hospital in a child process. */
class ProcessSite<C extends CommandSet> implements SiteHandle<C> {
  readonly name: string
  private readonly child: ChildProcess
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  private nextId = 1
  private exited = false
  private readonly exit: Promise<void>

  constructor (name: string, child: ChildProcess) {
    this.name = name
    this.child = child
    this.exit = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exited = true
        children.delete(child)
        for (const p of this.pending.values()) {
          clearTimeout(p.timer)
          p.reject(new SiteProcessError(name, `exited (${signal ?? String(code)}) during a command`))
        }
        this.pending.clear()
        resolve()
      })
    })
    child.on('message', (raw) => {
      const m = raw as FromWorker
      if (m.type !== 'result') return
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.value)
      else p.reject(new SiteCommandError('command', m.name, m.message))
    })
  }

  get alive (): boolean { return !this.exited }

  get pid (): number | undefined { return this.child.pid }

  async ready (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new SiteProcessError(this.name, `not started after ${SITE_START_TIMEOUT_MS} ms`)) }, SITE_START_TIMEOUT_MS)
      const onMessage = (raw: unknown): void => {
        const m = raw as FromWorker
        if (m.type === 'ready') { done(); resolve() }
        if (m.type === 'failed') { done(); reject(new SiteProcessError(this.name, `failed to start: ${m.name}: ${m.message}`)) }
      }
      const onExit = (): void => { done(); reject(new SiteProcessError(this.name, 'exited while starting')) }
      const done = (): void => {
        clearTimeout(timer)
        this.child.off('message', onMessage)
        this.child.off('exit', onExit)
      }
      this.child.on('message', onMessage)
      this.child.once('exit', onExit)
    })
  }

  send (message: ToWorker): void {
    if (this.child.connected) this.child.send(message)
  }

  async call<K extends keyof C & string>(command: K, args?: Args<C, K>, timeoutMs = SITE_COMMAND_TIMEOUT_MS): Promise<Result<C, K>> {
    if (this.exited) throw new SiteProcessError(this.name, `is not running (${command})`)
    const id = this.nextId++
    return await new Promise<Result<C, K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new SiteProcessError(this.name, `${command} unanswered after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: v => { resolve(v as Result<C, K>) },
        reject: e => { reject(e instanceof SiteCommandError ? new SiteCommandError(command, e.remoteName, e.message.split(': ').slice(2).join(': ')) : e) },
        timer
      })
      this.send({ type: 'call', id, command, args })
    })
  }

  async stop (): Promise<void> {
    if (this.exited) return
    this.send({ type: 'stop' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), SITE_STOP_TIMEOUT_MS)
    await this.exit
    clearTimeout(timer)
  }

  async kill (): Promise<void> {
    if (this.exited) return
    this.child.kill('SIGKILL')
    await this.exit
  }
}

/** Starts a hospital node or PACS in a child process; its stdout/stderr go to `logFile`. */
export async function startProcessSite<C extends CommandSet> (worker: WorkerInit, address: string, logFile: string): Promise<SiteHandle<C>> {
  hookExit()
  const fd = openSync(logFile, 'a')
  let child: ChildProcess
  try {
    // DM2_SIM_PROFILE=<dir>: every hospital process writes a V8 CPU profile there (to find a bottleneck).
    const profile = process.env.DM2_SIM_PROFILE
    const extra = profile === undefined || profile === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]
    child = spawn(process.execPath, [...extra, '--import', 'tsx', WORKER], { cwd: ROOT, stdio: ['ignore', fd, fd, 'ipc'], env: withThreadpool() })
  } finally {
    closeSync(fd)
  }
  children.add(child)
  const site = new ProcessSite<C>(worker.init.name, child)
  try {
    site.send({ type: 'init', worker, address })
    await site.ready()
  } catch (err) {
    await site.kill()
    throw err
  }
  return site
}

/** A site in this process, its connections leaving from its own address. */
class LocalSite<C extends CommandSet> implements SiteHandle<C> {
  readonly name: string
  private readonly site: Awaited<ReturnType<typeof openWorker>>
  private readonly address: string
  private running = true

  constructor (name: string, site: Awaited<ReturnType<typeof openWorker>>, address: string) {
    this.site = site
    this.name = name
    this.address = address
  }

  get alive (): boolean { return this.running }

  async call<K extends keyof C & string>(command: K, args?: Args<C, K>): Promise<Result<C, K>> {
    if (!this.running) throw new SiteProcessError(this.name, `is not running (${command})`)
    try {
      return await runAsSite(this.address, async () => await runCommand(this.site, command, args)) as Result<C, K>
    } catch (err) {
      throw new SiteCommandError(command, (err as Error).name, (err as Error).message)
    }
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    await this.site.close()
  }

  /** In one process there is no crash to simulate: the site stops at once. */
  async kill (): Promise<void> { await this.stop() }
}

export async function startLocalSite<C extends CommandSet> (worker: WorkerInit, address: string): Promise<SiteHandle<C>> {
  const site = await runAsSite(address, async () => await openWorker(worker))
  return new LocalSite<C>(worker.init.name, site, address)
}
