/**
 * Outbound connections of a site leave from its own loopback address, so the
 * shaping proxies can tell sites apart. libp2p's TCP transport calls
 * `net.connect(options)`; this wraps that one function for the process, once.
 * With several sites in one process, the site is taken from an
 * AsyncLocalStorage context set around each site's start and calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import net from 'node:net'

const context = new AsyncLocalStorage<string>()
let processAddress: string | undefined
let installed = false

type ConnectFn = typeof net.connect

function install (): void {
  if (installed) return
  installed = true
  const original: ConnectFn = net.connect.bind(net)
  const wrapped = ((...args: unknown[]) => {
    const [first] = args
    const local = context.getStore() ?? processAddress
    if (local !== undefined && typeof first === 'object' && first !== null && !('path' in first) && !('localAddress' in first)) {
      const host = (first as { host?: string }).host ?? '127.0.0.1'
      // Only loopback destinations: a site address cannot reach anything else.
      if (host.startsWith('127.')) args[0] = { ...first, localAddress: local }
    }
    return (original as (...a: unknown[]) => net.Socket)(...args)
  }) as ConnectFn
  net.connect = wrapped
  net.createConnection = wrapped
}

/** Every outbound TCP connection of this process leaves from `address` (one site per process). */
export function bindProcessTo (address: string): void {
  install()
  processAddress = address
}

/** Runs `fn` (and everything it starts) as the site at `address` (several sites in one process). */
export function runAsSite<T> (address: string, fn: () => T): T {
  install()
  return context.run(address, fn)
}

/** Runs `fn` outside any site: e.g. a proxy's own connections. */
export function runOutsideSites<T> (fn: () => T): T {
  return context.exit(fn)
}

/** Outbound connections of this process leave from the default address again. */
export function unbindProcess (): void {
  processAddress = undefined
}
