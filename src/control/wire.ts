/**
 * Control-channel messages: newline-delimited JSON, one object per line,
 * each line at most MAX_LINE_BYTES.
 *
 * request  `{ id, method, params }`
 * progress `{ id, progress }` (any number)
 * result   `{ id, result }` or `{ id, error: { name, message } }` (exactly one)
 * cancel   `{ id, cancel: true }` (client → node)
 */
import { ControlProtocolError } from './errors.js'

export const MAX_LINE_BYTES = 1024 * 1024

export type ControlMessage =
  | { id: number, method: string, params: unknown }
  | { id: number, cancel: true }
  | { id: number, progress: unknown }
  | { id: number, result: unknown }
  | { id: number, error: { name: string, message: string } }

/** Splits a byte stream into JSON lines, refusing any line over the limit. */
export class LineReader {
  private buffer = ''

  push (chunk: Buffer | string): ControlMessage[] {
    this.buffer += chunk.toString()
    const out: ControlMessage[] = []
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(nl + 1)
      if (line.trim() === '') continue
      out.push(parseLine(line))
    }
    if (Buffer.byteLength(this.buffer) > MAX_LINE_BYTES) throw new ControlProtocolError('control message too large')
    return out
  }
}

function parseLine (line: string): ControlMessage {
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw new ControlProtocolError('control message too large')
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new ControlProtocolError('control message is not JSON')
  }
  if (value === null || typeof value !== 'object' || !Number.isSafeInteger((value as { id?: unknown }).id)) {
    throw new ControlProtocolError('control message lacks an id')
  }
  return value as ControlMessage
}

export function line (message: ControlMessage): string {
  const text = JSON.stringify(message)
  if (Buffer.byteLength(text) > MAX_LINE_BYTES) throw new ControlProtocolError('control message too large')
  return text + '\n'
}
