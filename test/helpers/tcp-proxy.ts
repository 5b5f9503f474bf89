/**
 * A TCP proxy on 127.0.0.1 for integration tests: it counts the bytes each
 * way (so a test can assert that a server saw no new request), and can
 * break connections once the server has sent a number of bytes and refuse
 * new ones until told otherwise (a server going down mid-transfer), or slow
 * the server's replies down.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  /** Bytes client → server and server → client since start (or `reset()`). */
  readonly sent: number
  readonly received: number
  /** Connections accepted since start. */
  readonly connections: number
  reset: () => void
  /** Once the server has sent this many more bytes, destroy every connection and refuse new ones (undefined: serve again). */
  failAfter: (bytes: number | undefined) => void
  /** Delay each chunk the server sends by this many ms (0: no delay). */
  delay: (ms: number) => void
  stop: () => Promise<void>
}

export async function startTcpProxy (target: { host: string, port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let sent = 0
  let received = 0
  let connections = 0
  let budget: number | undefined
  let down = false
  let delayMs = 0
  const server: Server = createServer(client => {
    if (down) {
      client.destroy()
      return
    }
    connections++
    const upstream = connect(target.port, target.host)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    const close = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('data', (data: Buffer) => { sent += data.length; upstream.write(data) })
    upstream.on('data', (data: Buffer) => {
      received += data.length
      if (budget !== undefined) {
        budget -= data.length
        if (budget <= 0) {
          budget = undefined
          down = true
          for (const s of sockets) s.destroy()
          sockets.clear()
          return
        }
      }
      if (delayMs > 0) {
        upstream.pause()
        setTimeout(() => { client.write(data); upstream.resume() }, delayMs)
      } else {
        client.write(data)
      }
    })
    client.on('close', close)
    upstream.on('close', close)
    client.on('error', close)
    upstream.on('error', close)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve() })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    port: address.port,
    get sent () { return sent },
    get received () { return received },
    get connections () { return connections },
    reset: () => { sent = 0; received = 0; connections = 0 },
    failAfter: (bytes) => { budget = bytes; down = false },
    delay: (ms) => { delayMs = ms },
    stop: async () => {
      for (const s of sockets) s.destroy()
      sockets.clear()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
