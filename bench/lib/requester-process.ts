/**
 * The orchestrator's side of requester-worker.ts: starts a requesting
 * hospital in a child process (a member of a local federation started with
 * `extraMembers`), runs its commands, and stops it. The child is killed if
 * this process exits first.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withThreadpool } from '../../src/config/defaults.js'
import type { Ability } from '../../src/sac/index.js'
import type { TimedGet } from './timed-get.js'

export interface RequesterInit {
  name: string
  dir: string
  members: string[]
  bootstrap: string[]
  /** The clinician's Ed25519 seed and certificates (the wallet the requester presents). */
  seed: number[]
  certificates: number[][]
}

export type RequesterCall =
  | { command: 'routing' }
  | { command: 'resolvable', lfn: string }
  | { command: 'get', lfn: string, out: string, localCopy: boolean }
  | { command: 'settled' }
  | { command: 'register', dir: string }
  /** A certificate from this site to `audience` (for the federated query). */
  | { command: 'certify', audience: number[], abilities: Ability[] }

export type RequesterMessage =
  | { type: 'ready', peerId: string }
  | { type: 'failed', message: string }
  | { type: 'result', id: number, ok: boolean, value: unknown }

type Answer<C extends RequesterCall['command']> =
  C extends 'routing' ? number : C extends 'resolvable' ? boolean : C extends 'get' ? TimedGet : C extends 'register' ? string : C extends 'certify' ? number[] : undefined

const WORKER = fileURLToPath(new URL('./requester-worker.ts', import.meta.url))
const START_TIMEOUT_MS = 60_000
const CALL_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 15_000

export interface RequesterProcess {
  readonly peerId: string
  call: <C extends RequesterCall>(call: C) => Promise<Answer<C['command']>>
  stop: () => Promise<void>
}

export async function startRequesterProcess (init: RequesterInit): Promise<RequesterProcess> {
  // DM2_BENCH_PROFILE=<dir>: the requester writes a V8 CPU profile there (to see where its time goes).
  const profile = process.env.DM2_BENCH_PROFILE
  const extra = profile === undefined || profile === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', WORKER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: withThreadpool() })
  const kill = (): void => { child.kill('SIGKILL') }
  process.once('exit', kill)
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let nextId = 1
  let gone = false
  exited.then(() => {
    gone = true
    process.off('exit', kill)
    for (const p of pending.values()) p.reject(new Error('the requester process exited'))
    pending.clear()
  }).catch(() => {})
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (raw) => {
      const m = raw as RequesterMessage
      if (m.type === 'ready') resolve(m.peerId)
      else if (m.type === 'failed') reject(new Error(`the requester failed to start: ${m.message}`))
      else {
        const p = pending.get(m.id)
        pending.delete(m.id)
        if (m.ok) p?.resolve(m.value)
        else p?.reject(new Error(`requester: ${String(m.value)}`))
      }
    })
    exited.then(() => { reject(new Error('the requester process exited while starting')) }).catch(() => {})
  })
  const stop = async (): Promise<void> => {
    if (gone) return
    if (child.connected) child.send({ type: 'stop' })
    const timer = setTimeout(kill, STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }
  child.send({ type: 'init', init })
  let peerId: string
  const timer = setTimeout(kill, START_TIMEOUT_MS)
  try {
    peerId = await ready
  } catch (err) {
    kill()
    await exited
    throw err
  } finally {
    clearTimeout(timer)
  }
  return {
    peerId,
    stop,
    call: async <C extends RequesterCall>(call: C): Promise<Answer<C['command']>> => {
      if (gone) throw new Error(`the requester process is gone (${call.command})`)
      const id = nextId++
      return await new Promise<Answer<C['command']>>((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`requester: ${call.command} unanswered after ${CALL_TIMEOUT_MS} ms`))
        }, CALL_TIMEOUT_MS)
        pending.set(id, {
          resolve: v => { clearTimeout(t); resolve(v as Answer<C['command']>) },
          reject: e => { clearTimeout(t); reject(e) }
        })
        child.send({ type: 'call', id, call })
      })
    }
  }
}
