/**
 * The IPC protocol between the `scale` coordinator and its worker processes
 * (Node's `process.send` channel, JSON serialized). Every command carries an
 * id; the worker answers each with the same id, `ok` and a value or an error.
 */
import type { LookupKind } from './plan.js'

export interface WorkerNode {
  index: number
  name: string
  /** The 32-byte Ed25519 key seed, hex. */
  keySeed: string
}

export interface MemorySample {
  rssBytes: number
  heapUsedBytes: number
  /** Nodes running in the process when sampled. */
  nodes: number
}

/** What a lookup needs to know, resolved by the coordinator from the plan. */
export interface LookupRequest {
  kind: LookupKind
  from: number
  /** findPeer: the peer id looked up. */
  peer?: string
  /** findProviders and getLfn: the object's LFN (its content id derives from it). */
  lfn?: string
  /** findProviders and getLfn: the publisher's peer id, which the answer must name. */
  publisher?: string
}

export interface LookupResult {
  ok: boolean
  /** Time to the first verified answer from the network, ms. */
  ms: number
  /** Depth of the answering peer (see hops.ts). */
  hops: number
  /** Distinct remote peers that answered before the answer. */
  contacted: number
  /** Distinct remote peers asked before the answer. */
  asked: number
  /** getLfn: time until kad-dht's get returned the selected record (as `Localization.resolveLfn`), ms. */
  doneMs?: number
  error?: string
}

export interface NodeStats {
  routingTable: number[]
  connections: number[]
  /** Worst p99 event-loop delay of the workers since the last sample, ms: how starved of CPU they are. */
  loopDelayP99Ms: number
}

export type Command =
  | { op: 'start', root: string, members: string[], nodes: WorkerNode[] }
  | { op: 'dial', dials: Array<{ from: number, addr: string }> }
  | { op: 'stats' }
  | { op: 'publish', lfn: string, publisher: number }
  | { op: 'lookup', lookup: LookupRequest }
  | { op: 'memory' }
  | { op: 'stop' }

/** What each command answers. */
export interface Replies {
  start: { addrs: Record<number, string>, baseline: MemorySample }
  dial: { failed: number, errors: string[] }
  stats: NodeStats
  publish: { ms: number }
  lookup: LookupResult
  memory: MemorySample
  stop: Record<string, never>
}

export type Request = Command & { id: number }

export type Reply =
  | { id: number, ok: true, value: unknown }
  | { id: number, ok: false, error: { name: string, message: string } }

/** Sent once by a worker when it is ready for commands. */
export interface Ready { ready: true, pid: number }
