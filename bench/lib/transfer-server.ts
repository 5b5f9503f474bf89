/**
 * A serving process for bench/transfer.ts: holds a pseudo-random payload of
 * `--mib` 1 MiB chunks (the same bytes for the same seed), and serves it over
 * the chunk protocol, over a bare libp2p stream and over raw TCP. Prints one
 * JSON line with its addresses, then serves until killed.
 */
import '../../src/polyfill.js'
import { createCipheriv, createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { streamMuxer } from '../../src/node/libp2p.js'
import { chunkTransfer } from '../../src/protocols/chunks/index.js'

export const BARE_PROTOCOL = '/dm2-bench/bare/1.0.0'
const CHUNK = 1024 * 1024

const mib = Number(process.argv[2] ?? 256)
const seed = process.argv[3] ?? 'dm2'
const key = createHash('sha256').update(seed).digest()
// AES-CTR keystream: indistinguishable from ciphertext, and fast to make.
const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
const chunks = Array.from({ length: mib }, () => new Uint8Array(cipher.update(Buffer.alloc(CHUNK))))
const contentId = new Uint8Array(createHash('sha256').update('content').update(seed).digest())

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [streamMuxer()],
  services: {
    chunks: chunkTransfer({
      store: {
        has: async (cid) => Buffer.compare(cid, contentId) === 0,
        read: async (_cid, index) => chunks[index]
      },
      authorize: async () => ({ allow: true })
    })
  }
})
await node.handle(BARE_PROTOCOL, async (stream) => {
  for (const c of chunks) {
    if (!stream.send(c)) await stream.onDrain()
  }
  await stream.close()
})

const tcpServer = createServer(socket => {
  let i = 0
  const pump = (): void => {
    while (i < chunks.length) {
      if (!socket.write(chunks[i++] as Uint8Array)) { socket.once('drain', pump); return }
    }
    socket.end()
  }
  pump()
})
await new Promise<void>(resolve => tcpServer.listen(0, '127.0.0.1', resolve))
const port = (tcpServer.address() as { port: number }).port

process.stdout.write(JSON.stringify({
  addr: node.getMultiaddrs()[0]?.toString(),
  tcpPort: port,
  contentId: Buffer.from(contentId).toString('hex'),
  chunks: chunks.map(c => createHash('sha256').update(c).digest('hex'))
}) + '\n')

const shutdown = (): void => {
  tcpServer.close()
  Promise.resolve(node.stop()).finally(() => process.exit(0))
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
