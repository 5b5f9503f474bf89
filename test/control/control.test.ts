import { stat } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ControlClient, ControlServer, MAX_LINE_BYTES } from '../../src/control/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('control channel', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let server: ControlServer
  let socketPath: string
  let cancelled = false
  /** Calls of the slow handler so far. */
  let slowCalls = 0

  beforeEach(async () => {
    dir = await tempDir()
    socketPath = join(dir.path, 'control.sock')
    cancelled = false
    slowCalls = 0
    server = new ControlServer({
      socketPath,
      log: logger('test:control'),
      handlers: {
        status: async () => ({ peers: 5 }),
        count: async (params, { progress }) => {
          const n = (params as { n: number }).n
          for (let i = 1; i <= n; i++) progress({ done: i, total: n })
          return n
        },
        fail: async () => { throw new TypeError('bad thing') },
        slow: async (_p, { signal }) => await new Promise((_resolve, reject) => {
          slowCalls++
          signal.addEventListener('abort', () => { cancelled = true; reject(new Error('cancelled')) })
        })
      }
    })
    await server.start()
  })
  afterEach(async () => {
    await server.stop()
    await dir.remove()
  })

  it('is a socket only its owner can use', async () => {
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600)
  })

  it('answers calls, streams progress and reports errors by name', async () => {
    const client = await ControlClient.connect(socketPath)
    expect(await client.call('status')).toEqual({ peers: 5 })
    const events: unknown[] = []
    expect(await client.call('count', { n: 3 }, { onProgress: e => events.push(e) })).toBe(3)
    expect(events).toEqual([{ done: 1, total: 3 }, { done: 2, total: 3 }, { done: 3, total: 3 }])
    await expect(client.call('fail')).rejects.toMatchObject({ name: 'ControlCallError', remoteName: 'TypeError' })
    await expect(client.call('nope')).rejects.toMatchObject({ remoteName: 'UnknownCommandError' })
    await expect(client.call('constructor')).rejects.toMatchObject({ remoteName: 'UnknownCommandError' })
    client.close()
  })

  it('cancels a call when the client aborts or disconnects', async () => {
    const client = await ControlClient.connect(socketPath)
    const controller = new AbortController()
    const call = client.call('slow', {}, { signal: controller.signal })
    await waitFor(() => slowCalls === 1, 20_000, 'the handler to start')
    controller.abort()
    await expect(call).rejects.toMatchObject({ remoteName: 'Error' })
    expect(cancelled).toBe(true)
    cancelled = false
    const again = client.call('slow').catch(e => e)
    await waitFor(() => slowCalls === 2, 20_000, 'the handler to start again')
    client.close()
    await again
    await waitFor(() => cancelled, 20_000, 'the server to cancel the handler of a client that left')
  })

  it('drops a client that sends an oversized or malformed line, and keeps serving', async () => {
    const closed = await new Promise<boolean>(resolve => {
      const s = connect(socketPath)
      s.on('close', () => { resolve(true) })
      s.on('error', () => {})
      s.write('x'.repeat(MAX_LINE_BYTES + 10))
    })
    expect(closed).toBe(true)
    const client = await ControlClient.connect(socketPath)
    expect(await client.call('status')).toEqual({ peers: 5 })
    client.close()
  })

  it('refuses to start twice on one socket, replaces a stale one, and says when no node runs', async () => {
    const second = new ControlServer({ socketPath, handlers: {}, log: logger('test:control') })
    await expect(second.start()).rejects.toMatchObject({ name: 'ControlSocketInUseError' })
    await server.stop()
    await expect(ControlClient.connect(socketPath)).rejects.toMatchObject({ name: 'NodeNotRunningError' })
    await server.start()
    expect(await (await ControlClient.connect(socketPath)).call('status')).toEqual({ peers: 5 })
  })
})
