import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { QueryEvent } from '@libp2p/kad-dht'
import { afterAll, describe, expect, it } from 'vitest'
import { HopTracker } from '../../sim/scale/hops.js'
import { objectCid, objectRecord } from '../../sim/scale/objects.js'
import { makePlan } from '../../sim/scale/plan.js'
import { networkRow } from '../../sim/scale/summary.js'
import type { NetworkResult } from '../../sim/scale/network.js'
import { parseScaleArgs } from '../../sim/scenarios/scale.js'
import { tempDir } from '../helpers/tmp.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

async function peers (n: number): Promise<PeerId[]> {
  return await Promise.all(Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
}

const path = { index: 0, queued: 0, running: 0, total: 0 }
const dial = (peer: PeerId): QueryEvent => ({ name: 'DIAL_PEER', type: 7, peer, path }) as unknown as QueryEvent
const response = (from: PeerId, closer: PeerId[]): QueryEvent =>
  ({ name: 'PEER_RESPONSE', type: 1, from, closer: closer.map(id => ({ id, multiaddrs: [] })), providers: [], path }) as unknown as QueryEvent

describe('scale plan', () => {
  const init = { nodes: 50, seed: 7, workers: 4, lookupsPerKind: 12, objects: 5, bootstrapDegree: 3 }

  it('is deterministic in the seed', () => {
    const a = makePlan(init)
    const b = makePlan(init)
    const c = makePlan({ ...init, seed: 8 })
    expect(b.dials).toEqual(a.dials)
    expect(b.lookups).toEqual(a.lookups)
    expect(b.nodes.map(n => Buffer.from(n.keySeed).toString('hex'))).toEqual(a.nodes.map(n => Buffer.from(n.keySeed).toString('hex')))
    expect(c.lookups).not.toEqual(a.lookups)
    expect(Buffer.from(c.nodes[0]?.keySeed ?? []).equals(Buffer.from(a.nodes[0]?.keySeed ?? []))).toBe(false)
  })

  it('dials a connected graph without self or reciprocal dials', () => {
    const plan = makePlan(init)
    const adjacent: number[][] = plan.nodes.map(() => [])
    for (const [i, targets] of plan.dials.entries()) {
      expect(new Set(targets).size).toBe(targets.length)
      for (const j of targets) {
        expect(j).not.toBe(i)
        expect(plan.dials[j]).not.toContain(i)
        adjacent[i]?.push(j)
        adjacent[j]?.push(i)
      }
    }
    // connected: a walk from node 0 reaches every node
    const reached = new Set([0])
    const todo = [0]
    while (todo.length > 0) for (const j of adjacent[todo.pop() as number] ?? []) if (!reached.has(j)) { reached.add(j); todo.push(j) }
    expect(reached.size).toBe(50)
    // every node ends up with at least the bootstrap degree of links
    expect(Math.min(...adjacent.map(a => a.length))).toBeGreaterThanOrEqual(3)
  })

  it('spreads nodes over workers and never looks up from the publisher or the target', () => {
    const plan = makePlan(init)
    expect(new Set(plan.nodes.map(n => n.worker))).toEqual(new Set([0, 1, 2, 3]))
    expect(plan.lookups).toHaveLength(36)
    expect(plan.objects).toHaveLength(5)
    for (const l of plan.lookups) {
      if (l.kind === 'findPeer') expect(l.from).not.toBe(l.target)
      else expect(l.from).not.toBe(plan.objects[l.target]?.publisher)
    }
    expect(() => makePlan({ ...init, nodes: 1 })).toThrow(RangeError)
  })

  it('derives an object\'s content id from its LFN alone', () => {
    expect(objectCid('a').equals(objectCid('a'))).toBe(true)
    expect(objectCid('a').equals(objectCid('b'))).toBe(false)
    expect(objectRecord('a').contentId).toEqual(objectCid('a').bytes)
  })
})

describe('hop tracker', () => {
  it('counts routing-table peers as 1 hop and each referral as one more', async () => {
    const [self, a, b, c, d] = await peers(5) as [PeerId, PeerId, PeerId, PeerId, PeerId]
    const t = new HopTracker(self)
    t.observe(dial(a))
    t.observe(dial(b))
    // b is named by a but was asked from the routing table: stays at 1
    t.observe(response(a, [b, c, self]))
    expect(t.depthOf(a)).toBe(1)
    expect(t.depthOf(b)).toBe(1)
    expect(t.depthOf(c)).toBe(2)
    t.observe(dial(c))
    t.observe(response(c, [d]))
    expect(t.depthOf(d)).toBe(3)
    // the requester's own answers never count
    t.observe(response(self, [a]))
    expect(t.contacted).toBe(2)
    expect(t.asked).toBe(3)
  })
})

describe('scale summary and options', () => {
  it('summarizes latency, hops and memory per node', () => {
    const lookup = (kind: 'findPeer' | 'findProviders' | 'getLfn', ms: number, ok = true): NetworkResult['lookups'][number] =>
      ({ kind, from: 0, target: 1, ok, ms, hops: 1 + (ms > 20 ? 1 : 0), contacted: 2, asked: 10, ...(kind === 'getLfn' ? { doneMs: ms * 2 } : {}) })
    const net: NetworkResult = {
      nodes: 4,
      workers: 2,
      startMs: 1000,
      settleMs: 2000,
      settled: true,
      routingTableMin: 3,
      routingTableMedian: 3,
      connectionsMedian: 3,
      loopDelayP99Ms: 12,
      publishMs: [5],
      publishErrors: [],
      lookups: [lookup('findPeer', 10), lookup('findProviders', 20), lookup('getLfn', 30), lookup('getLfn', 99, false)],
      baseline: [{ rssBytes: 100 * 2 ** 20, heapUsedBytes: 0, nodes: 0 }, { rssBytes: 100 * 2 ** 20, heapUsedBytes: 0, nodes: 0 }],
      memory: [{ rssBytes: 110 * 2 ** 20, heapUsedBytes: 4 * 2 ** 20, nodes: 2 }, { rssBytes: 110 * 2 ** 20, heapUsedBytes: 4 * 2 ** 20, nodes: 2 }]
    }
    const row = networkRow(net)
    expect([row.nodes, row.lookups, row.failed, row.lookupMedianMs, row.lookupP95Ms, row.hops, row.hopsMax]).toEqual([4, 4, 1, 20, 30, 1.33, 2])
    expect([row.findPeerMedianMs, row.getLfnDoneMedianMs]).toEqual([10, 60])
    expect([row.rssPerNodeMiB, row.rssMarginalPerNodeMiB, row.heapPerNodeMiB]).toEqual([55, 5, 2])
  })

  it('parses options and rejects bad ones with a typed error', () => {
    expect(parseScaleArgs(['--quick'])).toMatchObject({ quick: true, nodes: [12], seed: 1 })
    expect(parseScaleArgs(['--nodes', '50,75', '--seed', '3'])).toMatchObject({ quick: false, nodes: [50, 75], seed: 3 })
    for (const bad of [['--nodes', '1'], ['--nodes', 'x'], ['--seed', '-1'], ['--bogus']]) {
      expect(() => parseScaleArgs(bad)).toThrow(expect.objectContaining({ name: 'ScaleUsageError' }))
    }
  })
})

describe('scale scenario, quick', () => {
  let child: ChildProcess | undefined
  let out: Awaited<ReturnType<typeof tempDir>> | undefined
  afterAll(async () => {
    // Killing the coordinator closes the workers' IPC channel: they stop their nodes and exit.
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL')
    await out?.remove()
  })

  it('runs real nodes, every lookup succeeds, hops ≥ 1, memory > 0', async () => {
    out = await tempDir('dm2-sim-scale-')
    const proc = spawn(process.execPath, ['--import', 'tsx', 'sim/main.ts', 'scale', '--quick', '--out', out.path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const code = await new Promise<number | null>(resolve => { proc.on('exit', c => { resolve(c) }) })
    expect(code, stderr).toBe(0)

    const last = stdout.trim().split('\n').pop() ?? ''
    const result = JSON.parse(last) as { scenario: string, rows: Array<Record<string, number>>, detail: Array<{ kinds: Array<{ kind: string, lookups: number, failed: number }> }> }
    expect(result.scenario).toBe('scale')
    expect(JSON.parse(await readFile(`${out.path}/scale.json`, 'utf8'))).toEqual(result)
    expect(await readFile(`${out.path}/scale.svg`, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/)

    const [row] = result.rows
    expect(row).toBeDefined()
    if (row === undefined) return
    expect(row.nodes).toBe(12)
    expect(row.lookups).toBe(12)
    expect(row.failed).toBe(0)
    expect(row.hops).toBeGreaterThanOrEqual(1)
    expect(row.lookupMedianMs).toBeGreaterThan(0)
    expect(row.lookupP95Ms).toBeGreaterThanOrEqual(row.lookupMedianMs as number)
    expect(row.rssPerNodeMiB).toBeGreaterThan(0)
    expect(row.heapPerNodeMiB).toBeGreaterThan(0)
    expect(result.detail[0]?.kinds.map(k => [k.kind, k.lookups, k.failed])).toEqual([['findPeer', 4, 0], ['findProviders', 4, 0], ['getLfn', 4, 0]])
  }, 90_000)
})
