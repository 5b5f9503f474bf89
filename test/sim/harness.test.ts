/**
 * The simulator harness's own pieces: site addresses and paths, the link
 * ceiling, derived UIDs and the deterministic library, scenario options,
 * deadlines that fire, and the network's per-site shaping and partitions.
 */
import net, { createServer, type Server } from 'node:net'
import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { buildLibrary, derivedUid, voxelDigest, referenceOf } from '../../sim/harness/dataset.js'
import { SimNetwork } from '../../sim/harness/network.js'
import { runAsSite } from '../../sim/harness/source-address.js'
import { imageCeiling, pathOf, separated, siteAddress, siteOfAddress } from '../../sim/harness/topology.js'
import { parseScenarioArgs } from '../../sim/lib/args.js'
import { withDeadline } from '../../sim/lib/deadline.js'
import { tempDir } from '../helpers/tmp.js'

describe('topology', () => {
  it('maps sites to loopback addresses and back', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 244 }), site => {
      expect(siteOfAddress(siteAddress(site))).toBe(site)
      expect(siteOfAddress(`::ffff:${siteAddress(site)}`)).toBe(site)
    }), { numRuns: 100 })
    expect(siteOfAddress('127.0.0.1')).toBeUndefined()
    expect(siteOfAddress('10.0.0.12')).toBeUndefined()
    expect(() => siteAddress(245)).toThrow(RangeError)
  })

  it('adds latencies and compounds losses along a path', () => {
    expect(pathOf({ bitsPerSecond: 1, latencyMs: 2, loss: 0.1 }, { bitsPerSecond: 1, latencyMs: 3, loss: 0.1 })).toEqual({ latencyMs: 5, jitterMs: 0, loss: 1 - 0.81 })
    expect(pathOf(undefined, { bitsPerSecond: 1, latencyMs: 3 })).toEqual({ latencyMs: 3, jitterMs: 0, loss: 0 })
  })

  it('separates sites of different groups only', () => {
    const p = [[0, 1], [2, 3]]
    expect(separated(p, 0, 2)).toBe(true)
    expect(separated(p, 1, 0)).toBe(false)
    expect(separated(p, 0, 4)).toBe(false)
    expect(separated(undefined, 0, 2)).toBe(false)
  })

  it('computes the paper\'s link ceiling: 12.5 MB/s over 1.5 MB in 45 s is 375 images', () => {
    expect(imageCeiling({ requesterBps: 100e6, hospitalUpBps: [100e6], bytesPerImage: 1.5e6, seconds: 45 })).toBe(375)
    // A 1 Gbit/s requester is limited by the hospitals' 100 Mbit/s links until ten of them.
    expect(imageCeiling({ requesterBps: 1e9, hospitalUpBps: [100e6, 100e6], bytesPerImage: 1.5e6, seconds: 45 })).toBe(750)
    expect(imageCeiling({ requesterBps: 1e9, hospitalUpBps: Array(12).fill(100e6), bytesPerImage: 1.5e6, seconds: 45 })).toBe(3750)
  })
})

describe('synthetic library', () => {
  it('derives UIDs of the same length, distinct per series', () => {
    const uid = '2.25.123456789012345678901234567890'
    fc.assert(fc.property(fc.integer({ min: 0, max: 9_999_999_999 }), fc.integer({ min: 0, max: 9_999_999_999 }), (a, b) => {
      expect(derivedUid(uid, a)).toHaveLength(uid.length)
      expect(derivedUid(uid, a).startsWith('2.25.1')).toBe(true)
      expect(derivedUid(uid, a) === derivedUid(uid, b)).toBe(a === b)
    }), { numRuns: 200 })
    expect(() => derivedUid('2.25.12345', 1)).toThrow(RangeError)
  })

  it('is deterministic from its seed, every series its own UIDs, and assembles', async () => {
    const a = await tempDir()
    const b = await tempDir()
    try {
      const shape = { modality: 'CT' as const, rows: 32, columns: 48, slices: 3 }
      const one = await buildLibrary({ dir: a.path, seed: 7, count: 5, shape, templates: 2 })
      const two = await buildLibrary({ dir: b.path, seed: 7, count: 5, shape, templates: 2 })
      expect(one.map(s => s.series)).toEqual(two.map(s => s.series))
      expect(new Set(one.flatMap(s => s.sops)).size).toBe(15)
      expect(new Set(one.map(s => s.study)).size).toBe(5)
      expect(Buffer.compare(await readFile(one[3]?.files[1] as string), await readFile(two[3]?.files[1] as string))).toBe(0)
      // The rewritten files still name their own UIDs and still assemble; series 0 and 2 share a template's voxels.
      expect((await readFile(one[4]?.files[0] as string)).includes(Buffer.from(one[4]?.sops[0] as string))).toBe(true)
      const r0 = await referenceOf(one[0] as (typeof one)[number], a.path)
      const r2 = await referenceOf(one[2] as (typeof one)[number], a.path)
      const r1 = await referenceOf(one[1] as (typeof one)[number], a.path)
      expect(r0.digest).toBe(r2.digest)
      expect(r0.digest).not.toBe(r1.digest)
      // Growing the library keeps what is there.
      const more = await buildLibrary({ dir: a.path, seed: 7, count: 6, shape, templates: 2 })
      expect(more.slice(0, 5).map(s => s.series)).toEqual(one.map(s => s.series))
      expect(() => voxelDigest(new Uint8Array(10))).toThrow()
    } finally {
      await a.remove()
      await b.remove()
    }
  })
})

describe('scenario options', () => {
  it('parses lists, repeats and flags, and refuses nonsense', () => {
    expect(parseScenarioArgs(['--quick', '--seed', '4', '--seed', '5,6', '--hospitals', '1,3', '--link', '100', '--window', '7.5'])).toMatchObject({
      quick: true, seeds: [4, 5, 6], hospitals: [1, 3], linksMbit: [100], windowS: 7.5, pacs: 'edge', inProcess: false
    })
    expect(() => parseScenarioArgs(['--hospitals', '0'])).toThrow(expect.objectContaining({ name: 'ScenarioArgsError' }))
    expect(() => parseScenarioArgs(['--seed', 'x'])).toThrow(expect.objectContaining({ name: 'ScenarioArgsError' }))
    expect(() => parseScenarioArgs(['--pacs', 'dcm4chee'])).toThrow(expect.objectContaining({ name: 'ScenarioArgsError' }))
    expect(() => parseScenarioArgs(['--bogus'])).toThrow(expect.objectContaining({ name: 'ScenarioArgsError' }))
  })
})

describe('deadlines', () => {
  it('fires even when nothing else holds the signal, and follows a parent', async () => {
    const t = performance.now()
    const err = await withDeadline(100, async signal => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) })
    })).catch((e: Error) => e)
    expect((err as Error).name).toBe('TimeoutError')
    expect(performance.now() - t).toBeLessThan(2_000)
    const parent = new AbortController()
    setTimeout(() => { parent.abort(new Error('stop')) }, 20)
    const stopped = await withDeadline(10_000, async signal => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) })
    }), parent.signal).catch((e: Error) => e)
    expect((stopped as Error).message).toBe('stop')
    expect(await withDeadline(1_000, async () => 42)).toBe(42)
  })
})

describe('simulated network', () => {
  const servers: Server[] = []
  let network: SimNetwork | undefined
  afterEach(async () => {
    await network?.stop()
    for (const s of servers.splice(0)) s.close()
  })

  async function sink (bytes: number): Promise<number> {
    const server = createServer(s => { s.on('error', () => {}); s.end(Buffer.alloc(bytes, 1)) })
    servers.push(server)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as { port: number }).port
  }

  /** Downloads everything from `port`, dialling as `site`. */
  async function download (site: number, port: number, timeoutMs = 5_000): Promise<{ bytes: number, ms: number }> {
    const t = performance.now()
    return await new Promise((resolve, reject) => {
      let bytes = 0
      // `net.connect`, as libp2p's TCP transport calls it: the form the site binding wraps.
      const s = runAsSite(siteAddress(site), () => net.connect({ host: '127.0.0.1', port }))
      const timer = setTimeout(() => { s.destroy(); resolve({ bytes, ms: performance.now() - t }) }, timeoutMs)
      s.on('data', (d: Buffer) => { bytes += d.byteLength })
      s.on('end', () => { clearTimeout(timer); resolve({ bytes, ms: performance.now() - t }) })
      s.on('error', err => { clearTimeout(timer); reject(err) })
    })
  }

  it('charges the caller\'s downlink, counts bytes, slows a link live, and holds a partition without losing bytes', async () => {
    const n = new SimNetwork(1)
    network = n
    const target = await sink(400_000)
    // Site 1 (the target) is fast; site 2 (the caller) has a 2 Mbit/s downlink.
    const port = await n.addSite(1, { bitsPerSecond: 1e9 }, { host: '127.0.0.1', port: target })
    await n.addSite(2, { bitsPerSecond: 2e6, latencyMs: 5 }, { host: '127.0.0.1', port: await sink(0) })
    const first = await download(2, port)
    expect(first.bytes).toBe(400_000)
    // 400 kB at 250 kB/s, less a 64 KiB burst: over a second.
    expect(first.ms).toBeGreaterThan(1_100)
    expect((await n.counters(2)).down).toBe(400_000)
    expect((await n.counters(1)).up).toBe(400_000)
    await n.setLink(2, { bitsPerSecond: 100e6 })
    expect((await download(2, port)).ms).toBeLessThan(first.ms / 2)
    await n.partition([[1], [2]])
    setTimeout(() => { n.heal().catch(() => {}) }, 600)
    const held = await download(2, port)
    expect(held.bytes).toBe(400_000)
    expect(held.ms).toBeGreaterThan(550)
  })
})
