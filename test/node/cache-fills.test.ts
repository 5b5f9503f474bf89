/**
 * The byte budget of slices fetched from the PACS, against a registry fake
 * (the real registry and slice store are exercised end to end in
 * test/integration/dicom-to-volume.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { prefixLogger } from '@libp2p/logger'
import { CacheFills } from '../../src/node/cache-fills.js'
import type { Registry } from '../../src/registry/index.js'

interface FakeSeries { origin: 'local' | 'pacs', files: Map<string, number> }

/** A registry of series whose instances are files of given sizes; `dropFile` makes one virtual. */
function fakeRegistry (series: Record<string, FakeSeries>): Registry {
  const record = (lfn: string): { lfn: string, origin: string, bytes: number } | undefined => {
    const s = series[lfn]
    return s === undefined ? undefined : { lfn, origin: s.origin, bytes: [...s.files.values()].reduce((a, b) => a + b, 0) }
  }
  return {
    list: async () => Object.keys(series).map(record),
    get: async (lfn: string) => record(lfn),
    instances: async (lfn: string) => [...(series[lfn]?.files.keys() ?? [])].map(key => ({ key, file: `${lfn}/${key}` })),
    dropFile: async (lfn: string, key: string) => { series[lfn]?.files.delete(key) }
  } as unknown as Registry
}

const files = (...sizes: number[]): Map<string, number> => new Map(sizes.map((size, i) => [`i${i}`, size]))

describe('the byte budget of slices fetched from the PACS', () => {
  it('counts what is on disk at start, evicts the least recently used series beyond the budget, never a local one', async () => {
    const series: Record<string, FakeSeries> = {
      old: { origin: 'pacs', files: files(40, 40) },
      mid: { origin: 'pacs', files: files(30) },
      own: { origin: 'local', files: files(500) }
    }
    const removed: string[] = []
    const fills = new CacheFills({ registry: fakeRegistry(series), remove: async f => { removed.push(f) }, maxBytes: 100, log: prefixLogger('t').forComponent('fills') })
    await fills.open()
    // 110 bytes of fills over a budget of 100: the first one goes, the local series is not counted.
    expect(removed).toEqual(['old/i0', 'old/i1'])
    expect(fills.stats()).toEqual({ bytes: 30, maxBytes: 100, series: 1, evicted: 1 })

    // A new fill: the least recently used goes first, and a use moves a series to the back.
    series.a = { origin: 'pacs', files: files(50) }
    await fills.touch('a')
    await fills.touch('mid')
    series.b = { origin: 'pacs', files: files(50) }
    await fills.touch('b')
    // Enforced in the background: the caller of touch does not wait for it.
    await fills.enforce()
    expect(removed.slice(2)).toEqual(['a/i0'])
    expect(fills.stats()).toMatchObject({ bytes: 80, series: 2, evicted: 2 })
  })

  it('keeps a series while it is being read, and evicts it once released', async () => {
    const series: Record<string, FakeSeries> = { x: { origin: 'pacs', files: files(80) } }
    const removed: string[] = []
    const fills = new CacheFills({ registry: fakeRegistry(series), remove: async f => { removed.push(f) }, maxBytes: 100, log: prefixLogger('t').forComponent('fills') })
    await fills.open()
    await fills.pin('x')
    series.y = { origin: 'pacs', files: files(60) }
    await fills.pin('y')
    await fills.touch('y')
    await fills.enforce()
    // Both in use: over the budget for now, nothing removed under a reader.
    expect(removed).toEqual([])
    expect(fills.stats().bytes).toBe(140)
    fills.unpin('x')
    await fills.enforce()
    expect(removed).toEqual(['x/i0'])
    expect(fills.stats()).toMatchObject({ bytes: 60, series: 1 })
    fills.unpin('y')
    await fills.enforce()
    expect(removed).toEqual(['x/i0'])
  })

  it('recounts a series whose files a failed preparation took back, keeping its place', async () => {
    const series: Record<string, FakeSeries> = { p: { origin: 'pacs', files: files(30, 30) }, q: { origin: 'pacs', files: files(30) } }
    const removed: string[] = []
    const fills = new CacheFills({ registry: fakeRegistry(series), remove: async f => { removed.push(f) }, maxBytes: 100, log: prefixLogger('t').forComponent('fills') })
    await fills.open()
    series.p?.files.delete('i1')
    await fills.recount('p')
    expect(fills.stats()).toMatchObject({ bytes: 60, series: 2 })
    series.p?.files.delete('i0')
    await fills.recount('p')
    expect(fills.stats()).toMatchObject({ bytes: 30, series: 1 })
    // Recounting a series it does not know changes nothing.
    await fills.recount('unknown')
    expect(fills.stats()).toMatchObject({ bytes: 30, series: 1, evicted: 0 })
    expect(removed).toEqual([])
  })

  it('a series pinned while its files are being removed stops the removal, and the pin waits until it has stopped', async () => {
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const series: Record<string, FakeSeries> = { z: { origin: 'pacs', files: files(40, 40, 40) } }
    const removed: string[] = []
    const fills = new CacheFills({
      registry: fakeRegistry(series),
      // The first removal waits at the gate.
      remove: async f => { if (removed.length === 0) await gate; removed.push(f) },
      maxBytes: 50,
      log: prefixLogger('t').forComponent('fills')
    })
    const opening = fills.open()
    await new Promise(resolve => setImmediate(resolve))
    let pinned = false
    const pin = fills.pin('z').then(() => { pinned = true })
    await new Promise(resolve => setImmediate(resolve))
    expect(pinned).toBe(false)
    release()
    await pin
    await opening
    // One file was already on its way out; the rest stay, and the series is accounted as it is now.
    expect(removed).toEqual(['z/i0'])
    expect(fills.stats()).toMatchObject({ bytes: 80, series: 1, evicted: 0 })
  })
})

describe('the order of use of the PACS slices, across a restart', () => {
  it('orders the fills on disk by their last use, those never recorded first, and forgets an evicted series', async () => {
    const series: Record<string, FakeSeries> = {
      never: { origin: 'pacs', files: files(10) },
      first: { origin: 'pacs', files: files(40) },
      second: { origin: 'pacs', files: files(40) }
    }
    const times = new Map<string, number>()
    const useTimes = {
      all: async () => new Map(times),
      put: async (lfn: string, at: number) => { times.set(lfn, at) },
      del: async (lfn: string) => { times.delete(lfn) }
    }
    let clock = 1000
    const open = async (removed: string[], maxBytes: number): Promise<CacheFills> => {
      const fills = new CacheFills({ registry: fakeRegistry(series), remove: async f => { removed.push(f) }, maxBytes, log: prefixLogger('t').forComponent('fills'), useTimes, now: () => clock++ })
      await fills.open()
      return fills
    }
    const before: string[] = []
    const fills = await open(before, 1000)
    // Used in the order second, then first: in the registry's order they would be the other way round.
    await fills.touch('second')
    await fills.touch('first')
    expect(before).toEqual([])
    expect([...times.keys()].sort()).toEqual(['first', 'second'])

    // A restart with a smaller budget: the series never recorded goes first, then the least recently used.
    const after: string[] = []
    const again = await open(after, 45)
    expect(after).toEqual(['never/i0', 'second/i0'])
    expect(again.stats()).toMatchObject({ bytes: 40, series: 1, evicted: 2 })
    // An evicted series' time of use is forgotten; the one kept is still recorded.
    await again.enforce()
    expect([...times.keys()]).toEqual(['first'])
  })

  it('keeps the times in LevelDB, and reads an unusable one as never recorded', async () => {
    const { Level } = await import('level')
    const { tempDir } = await import('../helpers/tmp.js')
    const { levelUseTimes } = await import('../../src/node/cache-fills.js')
    const dir = await tempDir()
    const db = new Level<string, string>(dir.path, { valueEncoding: 'utf8' })
    try {
      const sub = db.sublevel<string, string>('slice-uses', { valueEncoding: 'utf8' })
      const t = levelUseTimes(sub)
      await t.put('lfn-a', 1234)
      expect((await t.all()).get('lfn-a')).toBe(1234)
      expect((await t.all()).get('lfn-b')).toBeUndefined()
      await sub.put('lfn-c', 'garbage')
      expect((await t.all()).get('lfn-c')).toBeUndefined()
      await t.del('lfn-a')
      expect((await t.all()).get('lfn-a')).toBeUndefined()
    } finally {
      await db.close()
      await dir.remove()
    }
  })
})
