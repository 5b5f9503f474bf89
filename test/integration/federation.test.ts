/**
 * Six real hospital nodes on 127.0.0.1 over TCP + noise + yamux: the DHT forms,
 * peers and provider records are found, identities survive restarts, and a
 * node outside the member list is refused by everyone.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IDENTITY_FILE_NAME } from '../../src/config/defaults.js'
import { loadConfig } from '../../src/config/index.js'
import { discoveryMatrix, routingTableSize, waitForRoutingTables } from '../../src/node/discovery.js'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { createHospitalNode, type HospitalNode } from '../../src/node/index.js'
import { localNodeOverrides, startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('six-hospital federation on loopback', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation
  let nodes: HospitalNode[]
  const extra: HospitalNode[] = []

  beforeAll(async () => {
    dir = await tempDir()
    fed = await startLocalFederation({ root: dir.path, hospitals: 6 })
    nodes = fed.nodes
    expect(await waitForRoutingTables(nodes, { timeoutMs: 30_000 })).toBe(true)
  })

  afterAll(async () => {
    await Promise.all(extra.map(async n => { await n.stop() }))
    await fed?.stop()
    await dir?.remove()
  })

  it('forms the DHT: every routing table holds the five others', () => {
    for (const node of nodes) expect(routingTableSize(node)).toBe(5)
  })

  it('each node finds every other through a DHT query', async () => {
    const matrix = await discoveryMatrix(nodes)
    expect(matrix.cells).toHaveLength(30)
    expect(matrix.cells.filter(c => !c.found)).toEqual([])
  })

  it('a provider record published on node 1 is found from node 6', async () => {
    const cid = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(`lfn-${Date.now()}`)))
    const first = nodes[0] as HospitalNode
    const last = nodes[5] as HospitalNode
    await first.libp2p.contentRouting.provide(cid)
    const found: string[] = []
    for await (const provider of last.libp2p.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(10_000) })) {
      found.push(provider.id.toString())
      if (provider.id.equals(first.peerId)) break
    }
    expect(found).toContain(first.peerId.toString())
  })

  it('refuses a node that is not a member, at every member', async () => {
    const outsiderDir = join(dir.path, 'outsider')
    const members = nodes.map(n => n.peerId.toString())
    const outsider = createHospitalNode(await loadConfig({
      env: {},
      overrides: [
        { path: ['name'], value: 'Outsider', source: 'test' },
        { path: ['dataDir'], value: outsiderDir, source: 'test' },
        { path: ['listen'], value: ['/ip4/127.0.0.1/tcp/0'], source: 'test' },
        { path: ['dicom', 'port'], value: 0, source: 'test' },
        // The outsider believes it belongs; the federation does not list it.
        { path: ['members'], value: members, source: 'test' }
      ]
    }))
    extra.push(outsider)
    await outsider.start()
    const before = nodes.map(n => n.admission.refusedInbound)
    for (const node of nodes) {
      const addr = node.getMultiaddrs()[0]
      expect(addr).toBeDefined()
      if (addr === undefined) continue
      // Noise carries the muxer choice in its handshake, so the outsider's dial
      // may complete before the member's gater closes it: what matters is that
      // it cannot use the connection and that it is closed.
      await outsider.libp2p.dial(addr, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
      await expect(outsider.libp2p.services.ping.ping(addr, { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    }
    await waitFor(() => nodes.every((n, i) => n.admission.refusedInbound > (before[i] ?? 0)), 5000, 'refusals to be counted')
    for (const node of nodes) {
      expect(node.libp2p.getConnections(outsider.peerId)).toHaveLength(0)
      // Members do not dial it either.
      await expect(node.libp2p.dial(outsider.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    }
    await waitFor(() => outsider.libp2p.getConnections().length === 0, 5000, 'the outsider to hold no connection')
  })

  it('a restarted node keeps its peer id and rejoins', async () => {
    const node = nodes[3] as HospitalNode
    const id = node.peerId.toString()
    const config = node.config
    await node.stop()
    // A new listen port: the others only learn it through the node's own dials.
    const restarted = createHospitalNode(config)
    extra.push(restarted)
    await restarted.start()
    expect(restarted.peerId.toString()).toBe(id)
    await waitFor(() => routingTableSize(restarted) >= 1, 20_000, 'the restarted node to rejoin the DHT')
    const other = nodes[5] as HospitalNode
    const info = await restarted.libp2p.peerRouting.findPeer(other.peerId, { useCache: false, signal: AbortSignal.timeout(10_000) })
    expect(info.id.equals(other.peerId)).toBe(true)
  })
})

describe('a local federation with a member started elsewhere', () => {
  it('admits the extra member, which joins through the first node and is found by the others', async () => {
    const dir = await tempDir()
    const extraDir = join(dir.path, 'elsewhere')
    await mkdir(extraDir, { recursive: true, mode: 0o700 })
    const extraId = (await loadOrCreateIdentity(join(extraDir, IDENTITY_FILE_NAME))).peerId.toString()
    let fed: LocalFederation | undefined
    let extra: HospitalNode | undefined
    try {
      fed = await startLocalFederation({ root: dir.path, hospitals: 2, extraMembers: [extraId] })
      const members = [...fed.nodes.map(n => n.peerId.toString()), extraId]
      const bootstrap = [fed.nodes[0]?.getMultiaddrs()[0]?.toString() ?? '']
      extra = createHospitalNode(await loadConfig({ env: {}, cwd: extraDir, overrides: localNodeOverrides({ name: 'elsewhere', dir: extraDir, members, bootstrap }) }))
      await extra.start()
      expect(extra.peerId.toString()).toBe(extraId)
      const all = [...fed.nodes, extra]
      expect(await waitForRoutingTables(all, { timeoutMs: 30_000 })).toBe(true)
      const second = fed.nodes[1] as HospitalNode
      const info = await second.libp2p.peerRouting.findPeer(extra.peerId, { useCache: false, signal: AbortSignal.timeout(10_000) })
      expect(info.id.equals(extra.peerId)).toBe(true)
      expect(fed.nodes.every(n => n.admission.refusedInbound === 0)).toBe(true)
    } finally {
      await extra?.stop()
      await fed?.stop()
      await dir.remove()
    }
  })
})
