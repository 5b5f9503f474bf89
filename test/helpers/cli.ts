/** Runs the real `dm2` command (bin/dm2.cjs) in a child process. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const DM2_BIN = fileURLToPath(new URL('../../bin/dm2.cjs', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunningCli {
  child: ChildProcess
  readonly stdout: string
  readonly stderr: string
  /** Resolves when stdout matches, rejects on exit or timeout. */
  waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  /** Sends a signal and waits for the exit. */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<CliResult>
}

const running = new Set<ChildProcess>()

/** Kills every child still running (call from afterEach/afterAll). */
export function killAllCli (): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

function cleanEnv (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DM2_')))
  return { ...base, ...env }
}

export function startCli (args: string[], env?: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, [DM2_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<CliResult>(resolve => {
    child.on('exit', (code, signal) => {
      running.delete(child)
      // Let the pipes drain.
      setImmediate(() => { resolve({ code, signal, stdout, stderr }) })
    })
  })
  return {
    child,
    get stdout () { return stdout },
    get stderr () { return stderr },
    waitForOutput: async (pattern, timeoutMs = 30_000) => await new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const m = stdout.match(pattern)
        if (m !== null) { clearInterval(timer); clearTimeout(deadline); resolve(m) }
      }, 25)
      const deadline = setTimeout(() => {
        clearInterval(timer)
        reject(new Error(`no ${String(pattern)} in output after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
      }, timeoutMs)
      exited.then(r => {
        if (stdout.match(pattern) !== null) return
        clearInterval(timer)
        clearTimeout(deadline)
        reject(new Error(`exited (${r.code ?? r.signal}) before ${String(pattern)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`))
      }, () => {})
    }),
    stop: async (signal = 'SIGINT', timeoutMs = 20_000) => {
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const result = await exited
      clearTimeout(timer)
      return result
    }
  }
}

export async function runCli (args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  const cli = startCli(args, env)
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs)
  try {
    return await new Promise<CliResult>(resolve => {
      cli.child.on('exit', (code, signal) => { setImmediate(() => { resolve({ code, signal, stdout: cli.stdout, stderr: cli.stderr }) }) })
    })
  } finally {
    clearTimeout(timer)
  }
}
