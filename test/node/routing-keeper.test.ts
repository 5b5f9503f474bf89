/**
 * A connected member missing from the DHT routing table (its one identify
 * exchange failed) is identified again and put back, by a real node over
 * real TCP connections.
 */
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routingTableSize, waitForRoutingTables } from '../../src/node/discovery.js'
import type { HospitalNode } from '../../src/node/index.js'
import { startLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { ROUTING_CHECK_MS, RoutingKeeper } from '../../src/node/routing-keeper.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

interface Table { find: (p: PeerId) => Promise<PeerId | undefined>, remove: (p: PeerId) => Promise<void> }
const tableOf = (n: HospitalNode): Table => (n.libp2p.services.dht as unknown as { routingTable: Table }).routingTable

describe('routing keeper', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fed: LocalFederation
  let a: HospitalNode
  let b: HospitalNode

  beforeAll(async () => {
    dir = await tempDir()
    fed = await startLocalFederation({ root: join(dir.path, 'fed'), hospitals: 3 })
    ;[a, b] = fed.nodes as [HospitalNode, HospitalNode]
    expect(await waitForRoutingTables(fed.nodes)).toBe(true)
  })
  afterAll(async () => {
    await fed?.stop()
    await dir?.remove()
  })

  it('identifies a connected member again when it is missing from the table, and leaves the others alone', async () => {
    const table = tableOf(a)
    const identified: string[] = []
    const keeper = new RoutingKeeper({
      connections: () => a.libp2p.getConnections(),
      inTable: async peer => (await table.find(peer)) !== undefined,
      isMember: () => true,
      identify: async (connection, options) => {
        identified.push(connection.remotePeer.toString())
        return await a.libp2p.services.identify.identify(connection, options)
      },
      log: a.libp2p.logger.forComponent('test:routing')
    }, { intervalMs: 60_000, timeoutMs: 5_000 })
    expect(await keeper.check()).toBe(0)
    await table.remove(b.peerId)
    expect(await table.find(b.peerId)).toBeUndefined()
    expect(await keeper.check()).toBeGreaterThanOrEqual(1)
    expect(identified).toContain(b.peerId.toString())
    await waitFor(async () => (await table.find(b.peerId)) !== undefined, 5_000, 'B back in A\'s routing table')
    identified.length = 0
    expect(await keeper.check()).toBe(0)
    expect(identified).toEqual([])
    await keeper.stop()
  })

  it('a node puts a dropped member back by itself', async () => {
    const table = tableOf(b)
    const before = routingTableSize(b)
    await table.remove(a.peerId)
    expect(routingTableSize(b)).toBe(before - 1)
    await waitFor(async () => (await table.find(a.peerId)) !== undefined, ROUTING_CHECK_MS * 3, 'A back in B\'s routing table')
    expect(routingTableSize(b)).toBe(before)
  })
})
