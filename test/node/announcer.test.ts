/**
 * LFN record updates wait for a quiet node (or a deadline), coalesce per
 * LFN, go out oldest first, and are given up at stop without hanging.
 */
import { describe, expect, it } from 'vitest'
import { logger } from '@libp2p/logger'
import { DeferredAnnouncer } from '../../src/node/announce.js'

interface Input { lfn: string, n: number }
const log = logger('test:announcer')
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('deferred announcer', () => {
  it('waits while the node serves, then announces once quiet, oldest first, the newest update of each LFN', async () => {
    let busy = true
    const sent: Input[] = []
    const a = new DeferredAnnouncer<Input>({ publish: async i => { sent.push(i) }, busy: () => busy, log, quietMs: 100, maxDelayMs: 60_000, pollMs: 10 })
    const first = a.add({ lfn: 'x', n: 1 })
    const second = a.add({ lfn: 'y', n: 1 })
    const replaced = a.add({ lfn: 'x', n: 2 })
    await sleep(300)
    expect(sent).toEqual([])
    expect(a.size).toBe(2)
    const quietAt = performance.now()
    busy = false
    await Promise.all([first, second, replaced])
    expect(performance.now() - quietAt).toBeGreaterThanOrEqual(90)
    expect(sent).toEqual([{ lfn: 'x', n: 2 }, { lfn: 'y', n: 1 }])
    a.stop()
  })

  it('announces under sustained load once an update has waited the longest delay', async () => {
    const sent: string[] = []
    const a = new DeferredAnnouncer<Input>({ publish: async i => { sent.push(i.lfn) }, busy: () => true, log, quietMs: 100, maxDelayMs: 250, pollMs: 10 })
    const t = performance.now()
    await a.add({ lfn: 'z', n: 1 })
    expect(performance.now() - t).toBeGreaterThanOrEqual(240)
    expect(sent).toEqual(['z'])
    a.stop()
  })

  it('a failed announcement is logged, not thrown, and the next one still goes', async () => {
    const sent: string[] = []
    const a = new DeferredAnnouncer<Input>({
      publish: async i => { if (i.lfn === 'bad') throw new Error('no peer stored it'); sent.push(i.lfn) },
      busy: () => false,
      log,
      quietMs: 20,
      pollMs: 5
    })
    await Promise.all([a.add({ lfn: 'bad', n: 1 }), a.add({ lfn: 'good', n: 1 })])
    expect(sent).toEqual(['good'])
    a.stop()
  })

  it('stop gives up what waits, at once, and takes nothing more', async () => {
    const sent: string[] = []
    const a = new DeferredAnnouncer<Input>({ publish: async i => { sent.push(i.lfn) }, busy: () => true, log, quietMs: 100, maxDelayMs: 60_000, pollMs: 10 })
    const waiting = a.add({ lfn: 'w', n: 1 })
    a.stop()
    await waiting
    await a.add({ lfn: 'after', n: 1 })
    await sleep(50)
    expect(sent).toEqual([])
    expect(a.size).toBe(0)
  })
})
