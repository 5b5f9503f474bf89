/** Option parsers shared by the subcommands. */
import { InvalidArgumentError } from 'commander'
import { LOG_LEVELS, type LogLevel } from '../config/defaults.js'

export function parsePort (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number 0–65535')
  return Number(value)
}

export function parsePositiveInt (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1')
  return Number(value)
}

export function parseLogLevel (value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${LOG_LEVELS.join(', ')}`)
  return value as LogLevel
}

/** Commander collector for repeatable options. */
export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
