/**
 * A `scale` worker process: hosts a share of the network's hospital nodes
 * (full `HospitalNode`s without a PACS: LevelDB, DICOM SCP, control socket,
 * libp2p with the project's DHT, admission and record validator) and runs the
 * coordinator's commands over IPC (protocol.ts). Exits when told to stop or
 * when the coordinator goes away.
 */
import '../../src/polyfill.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { generateKeyPairFromSeed, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { IDENTITY_FILE_NAME } from '../../src/config/defaults.js'
import { loadConfig, type ConfigOverride } from '../../src/config/load.js'
import { routingTableSize } from '../../src/node/discovery.js'
import { createHospitalNode, type HospitalNode } from '../../src/node/index.js'
import { DIAL_TIMEOUT_MS } from './constants.js'
import { liftPerHostInboundLimit, stopConnectionMonitor } from './artefacts.js'
import { runLookup } from './lookups.js'
import { objectRecord } from './objects.js'
import type { Command, MemorySample, Ready, Reply, Replies, Request, WorkerNode } from './protocol.js'

const nodes = new Map<number, HospitalNode>()
const loop = monitorEventLoopDelay({ resolution: 10 })
loop.enable()
let stopping: Promise<void> | undefined

function node (index: number): HospitalNode {
  const n = nodes.get(index)
  if (n === undefined) throw new RangeError(`node ${index} is not in this worker`)
  return n
}

function memory (): MemorySample {
  // A collection first, so heap figures are live data rather than garbage (needs --expose-gc).
  (globalThis as { gc?: () => void }).gc?.()
  const m = process.memoryUsage()
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, nodes: nodes.size }
}

async function startNode (root: string, members: string[], spec: WorkerNode): Promise<HospitalNode> {
  const dir = join(root, spec.name)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  // A deterministic identity: the plan's key seed, written where the node loads its key from.
  const key = await generateKeyPairFromSeed('Ed25519', Buffer.from(spec.keySeed, 'hex'))
  await writeFile(join(dir, IDENTITY_FILE_NAME), privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  const o = (path: string[], value: unknown): ConfigOverride => ({ path, value, source: `sim scale (${spec.name})` })
  const config = await loadConfig({
    env: {},
    cwd: dir,
    overrides: [
      o(['name'], spec.name), o(['dataDir'], dir), o(['listen'], ['/ip4/127.0.0.1/tcp/0']),
      o(['members'], members), o(['bootstrap'], []), o(['dicom', 'port'], 0), o(['log', 'level'], 'silent')
    ]
  })
  const n = createHospitalNode(config)
  nodes.set(spec.index, n)
  await n.start()
  // Simulation artefacts removed (see artefacts.ts); say so if libp2p's internals moved.
  if (!liftPerHostInboundLimit(n)) process.stderr.write(`scale worker: could not lift the per-host inbound limit of ${spec.name}; expect refused connections\n`)
  if (!await stopConnectionMonitor(n)) process.stderr.write(`scale worker: no connection monitor to stop on ${spec.name}\n`)
  return n
}

async function stopAll (): Promise<void> {
  stopping ??= Promise.allSettled([...nodes.values()].map(async n => { await n.stop() })).then(() => {})
  await stopping
}

async function handle (cmd: Command): Promise<Replies[Command['op']]> {
  switch (cmd.op) {
    case 'start': {
      const baseline = memory()
      const addrs: Record<number, string> = {}
      for (const spec of cmd.nodes) {
        const n = await startNode(cmd.root, cmd.members, spec)
        addrs[spec.index] = n.getMultiaddrs()[0]?.toString() ?? ''
      }
      return { addrs, baseline }
    }
    case 'dial': {
      // One retry: on a busy machine a handshake can miss libp2p's upgrade timeout.
      const dialOnce = async (d: { from: number, addr: string }): Promise<void> => {
        await node(d.from).libp2p.dial(multiaddr(d.addr), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      }
      const results = await Promise.allSettled(cmd.dials.map(async d => {
        await dialOnce(d).catch(async () => {
          await new Promise(resolve => setTimeout(resolve, 500))
          await dialOnce(d)
        })
      }))
      const errors = results.flatMap(r => r.status === 'rejected' ? [`${(r.reason as Error).name}: ${(r.reason as Error).message}`] : [])
      return { failed: errors.length, errors: errors.slice(0, 5) }
    }
    case 'stats': {
      const list = [...nodes.values()]
      const loopDelayP99Ms = loop.percentile(99) / 1e6
      loop.reset()
      return { routingTable: list.map(n => routingTableSize(n)), connections: list.map(n => n.libp2p.getConnections().length), loopDelayP99Ms }
    }
    case 'publish': {
      const started = performance.now()
      const publish = async (): Promise<unknown> => await node(cmd.publisher).localization.publishLfn(objectRecord(cmd.lfn))
      // One retry, as the republisher would: a publication can time out on a busy machine.
      await publish().catch(publish)
      return { ms: performance.now() - started }
    }
    case 'lookup':
      return await runLookup(node(cmd.lookup.from), cmd.lookup)
    case 'memory':
      return memory()
    case 'stop':
      await stopAll()
      return {}
  }
}

function send (message: Reply | Ready): void {
  process.send?.(message)
}

process.on('message', (req: Request) => {
  handle(req).then(value => { send({ id: req.id, ok: true, value }) }, (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err))
    send({ id: req.id, ok: false, error: { name: e.name, message: e.message } })
  })
})

// The coordinator is gone (finished, crashed or killed): stop the nodes and leave.
process.on('disconnect', () => {
  stopAll().finally(() => { process.exit(0) })
})

if (process.send === undefined) {
  process.stderr.write('sim/scale/worker.ts is started by the scale scenario over IPC, not by hand\n')
  process.exit(2)
}
send({ ready: true, pid: process.pid })
