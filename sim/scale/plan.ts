/**
 * The deterministic plan of one `scale` run (pure): which worker hosts which
 * node, each node's identity seed, whom each node dials at start, which node
 * publishes which LFN, and which node looks up what. The same seed and sizes
 * give the same plan, hence the same peer ids and the same lookups.
 */
import { createHash } from 'node:crypto'
import { seededRandom } from '../lib/shaping.js'

export type LookupKind = 'findPeer' | 'findProviders' | 'getLfn'
export const LOOKUP_KINDS: readonly LookupKind[] = ['findPeer', 'findProviders', 'getLfn']

export interface PlanInit {
  nodes: number
  seed: number
  workers: number
  lookupsPerKind: number
  /** Objects published (at most one per lookup of a kind). */
  objects: number
  bootstrapDegree: number
}

export interface NodeSpec {
  index: number
  name: string
  worker: number
  /** 32 bytes: the node's Ed25519 private key seed. */
  keySeed: Uint8Array
}

/** An LFN published by `publisher`: a signed LFN record and a provider record of its content id. */
export interface ObjectSpec {
  index: number
  lfn: string
  publisher: number
}

/** One lookup: `from` looks up node `target` (findPeer) or object `target` (findProviders, getLfn). */
export interface LookupSpec {
  kind: LookupKind
  from: number
  target: number
}

export interface ScalePlan {
  nodes: NodeSpec[]
  /** Per node, the indices of the nodes it dials at start. */
  dials: number[][]
  objects: ObjectSpec[]
  lookups: LookupSpec[]
}

/** A node's key seed: SHA-256 over the run seed and its index (domain separated). */
export function keySeed (seed: number, index: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`dm2/sim/scale/identity/v1\0${seed}\0${index}`).digest())
}

function pick (rand: () => number, n: number, not: ReadonlySet<number>): number {
  if (not.size >= n) throw new RangeError('nothing left to pick')
  for (;;) {
    const i = Math.floor(rand() * n)
    if (!not.has(i)) return i
  }
}

export function makePlan (init: PlanInit): ScalePlan {
  const { nodes: n, seed, workers } = init
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`need at least 2 nodes, got ${n}`)
  if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`need at least 1 worker, got ${workers}`)
  const rand = seededRandom(seed)
  const nodes: NodeSpec[] = Array.from({ length: n }, (_, index) => ({
    index,
    name: `sim-${String(index + 1).padStart(3, '0')}`,
    // Round robin: neighbours in index order live in different processes.
    worker: index % Math.min(workers, n),
    keySeed: keySeed(seed, index)
  }))

  // Node i dials one earlier node (so the graph is connected) and up to
  // degree − 1 others; never a node that dials i (two simultaneous dials
  // between one pair can reset each other).
  const dials: number[][] = nodes.map(() => [])
  const linked = nodes.map(() => new Set<number>())
  const link = (i: number, j: number): void => { dials[i]?.push(j); linked[i]?.add(j); linked[j]?.add(i) }
  for (let i = 1; i < n; i++) {
    const mine = linked[i] as Set<number>
    if (![...mine].some(j => j < i)) link(i, Math.floor(rand() * i))
    const want = Math.min(init.bootstrapDegree, n - 1)
    while (mine.size < want) link(i, pick(rand, n, new Set([i, ...mine])))
  }

  // Fewer objects than lookups when lookups are many: a publication costs
  // about 80 DHT requests, and a requester caches nothing, so an object looked
  // up again from another node is as good a sample.
  const objects: ObjectSpec[] = Array.from({ length: Math.min(init.lookupsPerKind, init.objects) }, (_, index) => ({
    index,
    lfn: `scale-${seed}-${index}`,
    publisher: Math.floor(rand() * n)
  }))

  // Kinds interleaved so that each sees the network in the same state on average.
  const lookups: LookupSpec[] = []
  for (let k = 0; k < init.lookupsPerKind; k++) {
    const from = Math.floor(rand() * n)
    lookups.push({ kind: 'findPeer', from, target: pick(rand, n, new Set([from])) })
    const object = objects[k % objects.length] as ObjectSpec
    lookups.push({ kind: 'findProviders', from: pick(rand, n, new Set([object.publisher])), target: object.index })
    lookups.push({ kind: 'getLfn', from: pick(rand, n, new Set([object.publisher])), target: object.index })
  }
  return { nodes, dials, objects, lookups }
}
