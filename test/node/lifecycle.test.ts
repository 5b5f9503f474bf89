import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig, type HospitalConfig } from '../../src/config/index.js'
import { createHospitalNode, type HospitalNode } from '../../src/node/index.js'
import { tempDir } from '../helpers/tmp.js'

async function configIn (dataDir: string): Promise<HospitalConfig> {
  return await loadConfig({
    env: {},
    overrides: [
      { path: ['name'], value: 'Hospital Test', source: 'test' },
      { path: ['dataDir'], value: dataDir, source: 'test' },
      { path: ['listen'], value: ['/ip4/127.0.0.1/tcp/0'], source: 'test' },
      { path: ['dicom', 'port'], value: 0, source: 'test' }
    ]
  })
}

describe('hospital node lifecycle', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const nodes: HospitalNode[] = []
  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async n => { await n.stop() }))
    await dir.remove()
  })

  const make = async (): Promise<HospitalNode> => {
    const node = createHospitalNode(await configIn(dir.path))
    nodes.push(node)
    return node
  }

  it('keeps its peer id and its database across a restart', async () => {
    const first = await make()
    await first.start()
    expect(first.status).toBe('started')
    const id = first.peerId.toString()
    expect(first.getMultiaddrs()[0]?.toString()).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    await first.db.put('probe', new Uint8Array([1, 2, 3]))
    await first.stop()
    expect(first.status).toBe('stopped')
    expect(() => first.db).toThrow(/not started/)

    const second = await make()
    await second.start()
    expect(second.peerId.toString()).toBe(id)
    expect(Array.from(await second.db.get('probe') ?? [])).toEqual([1, 2, 3])
  })

  it('stop() during start() closes everything and leaves the data directory reusable', async () => {
    const node = await make()
    const starting = node.start()
    const stopping = node.stop()
    const outcome = await starting.then(() => 'started', (err: Error) => err.name)
    await stopping
    expect(['started', 'StartAbortedError']).toContain(outcome)
    expect(node.status).toBe('stopped')
    // The database lock and the port were released: another node can open them.
    const again = await make()
    await again.start()
    expect(again.status).toBe('started')
  })

  it('stop() at every point of start() never leaves the node half-open', async () => {
    for (const delayMs of [0, 1, 5, 20, 50]) {
      const node = await make()
      const starting = node.start().catch((err: Error) => err)
      await new Promise(resolve => setTimeout(resolve, delayMs))
      await node.stop()
      await starting
      expect(node.status).toBe('stopped')
    }
    const last = await make()
    await last.start()
    expect(last.status).toBe('started')
  })

  it('start and stop are idempotent; stop before start is a no-op', async () => {
    const node = await make()
    await node.stop()
    await Promise.all([node.start(), node.start()])
    await node.start()
    await Promise.all([node.stop(), node.stop()])
    expect(node.status).toBe('stopped')
  })

  it('refuses a second node on a data directory in use', async () => {
    const first = await make()
    await first.start()
    const second = await make()
    await expect(second.start()).rejects.toMatchObject({ name: 'DataDirInUseError' })
    expect(second.status).toBe('stopped')
    expect(first.status).toBe('started')
  })
})
