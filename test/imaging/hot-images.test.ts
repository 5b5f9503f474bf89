import { describe, expect, it } from 'vitest'
import { HotImages } from '../../src/imaging/index.js'

describe('images held in memory while they commit', () => {
  it('holds within its byte budget, serves chunks by index, lets go idempotently; open readers keep their chunks', async () => {
    const hot = new HotImages(3000)
    const chunks = [new Uint8Array(1000).fill(1), new Uint8Array(1000).fill(2)]
    expect(hot.add('aa', { lfn: 'lfn-1', version: 1, chunks })).toBe(true)
    expect(hot.heldBytes).toBe(2000)
    // Beyond the budget, or under an id already held: refused, nothing held.
    expect(hot.fits(1001)).toBe(false)
    expect(hot.add('bb', { lfn: 'lfn-2', version: 1, chunks })).toBe(false)
    expect(hot.add('aa', { lfn: 'lfn-1', version: 1, chunks: [new Uint8Array(10)] })).toBe(false)
    expect(hot.heldBytes).toBe(2000)
    expect(hot.entry('aa')).toEqual({ lfn: 'lfn-1', version: 1 })
    expect(hot.entry('bb')).toBeUndefined()
    const reader = hot.reader('aa')
    expect((await reader?.read(1))?.[0]).toBe(2)
    expect(await reader?.read(2)).toBeUndefined()
    expect(await reader?.read(-1)).toBeUndefined()
    expect(await reader?.read(0.5)).toBeUndefined()
    hot.remove('aa')
    hot.remove('aa')
    expect(hot.heldBytes).toBe(0)
    expect(hot.reader('aa')).toBeUndefined()
    // A reader opened before keeps serving what it had.
    expect((await reader?.read(0))?.[0]).toBe(1)
    // Its caller's array may change afterwards: the held list does not.
    const mine = [new Uint8Array(5)]
    hot.add('cc', { lfn: 'lfn-3', version: 2, chunks: mine })
    mine.push(new Uint8Array(5))
    expect(await hot.reader('cc')?.read(1)).toBeUndefined()
  })
})
