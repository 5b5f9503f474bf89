/**
 * Logging through libp2p's component logger (the `debug` package, on stderr),
 * with one prefix per hospital so that several nodes in one process (the local
 * federation, the simulator) keep their lines apart.
 *
 * Logs name LFNs, peer ids and hospitals, never patient fields.
 *
 * @example
 * ```ts
 * setLogLevel('info')
 * const log = hospitalLogger('hospital-a').forComponent('dm2:node')
 * log('listening on %s', addr)
 * ```
 */
import { enable, prefixLogger } from '@libp2p/logger'
import type { ComponentLogger } from '@libp2p/interface'
import type { LogLevel } from '../config/defaults.js'

/**
 * `debug` namespace patterns per level. Our components are `dm2:*`; libp2p's
 * own are `libp2p:*`. Each logger also has `.error` and `.trace` children.
 */
const PATTERNS: Readonly<Record<LogLevel, string>> = {
  silent: '',
  error: '*:dm2:*:error',
  info: '*:dm2:*,-*:dm2:*:trace',
  debug: '*:dm2:*,*:libp2p:*:error,-*:dm2:*:trace',
  trace: '*:dm2:*,*:libp2p:*'
}

/** Sets the process-wide log level (the `debug` package has one global switch). */
export function setLogLevel (level: LogLevel): void {
  enable(PATTERNS[level])
}

/** A log prefix from a hospital name: lower case, `[a-z0-9-]` only. */
export function logPrefix (hospital: string): string {
  const slug = hospital.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  return slug === '' ? 'hospital' : slug
}

/** The component logger of one hospital node, for libp2p and our own modules alike. */
export function hospitalLogger (hospital: string): ComponentLogger {
  return prefixLogger(logPrefix(hospital))
}
