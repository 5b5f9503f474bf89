/**
 * External DICOM tools for interop tests: DCMTK and Orthanc from Debian.
 * A missing tool fails the test (CI installs them); TCP_NODELAY=1 is set for
 * DCMTK so its side is not slowed by Nagle either.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'

export { freePort } from '../../helpers/free-port.js'

const PATHS = ['/usr/bin', '/usr/sbin', '/usr/local/bin']

/** Absolute path of a tool; throws (failing the test) when it is not installed. */
export function tool (name: string): string {
  for (const dir of PATHS) {
    const p = `${dir}/${name}`
    if (existsSync(p)) return p
  }
  throw new Error(`${name} is not installed (apt-get install dcmtk orthanc)`)
}

export interface ToolResult { code: number | null, stdout: string, stderr: string }

/** Runs a DCMTK tool to completion. */
export async function runTool (name: string, args: string[], timeoutMs = 30_000): Promise<ToolResult> {
  return await new Promise(resolve => {
    execFile(tool(name), args, { env: { ...process.env, TCP_NODELAY: '1' }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
      resolve({ code, stdout, stderr })
    })
  })
}

/** Children started by tests, killed by `killAll` even when a test fails. */
const children = new Set<ChildProcess>()

export function track (child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Starts a long-running tool (storescp) in the background. */
export function startTool (name: string, args: string[]): ChildProcess {
  return track(spawn(tool(name), args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' }))
}

export async function stopChild (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function killAll (): Promise<void> {
  await Promise.all([...children].map(async c => { await stopChild(c, 'SIGKILL') }))
}

/** Polls until a TCP port accepts connections. */
export async function waitForPort (port: number, timeoutMs = 20_000): Promise<void> {
  const { connect } = await import('node:net')
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => { resolve(false) })
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`port ${port} not listening after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
