import { describe, expect, it } from 'vitest'
import {
  AccessControl, checkInvocation, decodeAuthorization, encodeAuthorization, encodeCanonical, hashArguments,
  openInvocation, ReplayCache
} from '../../src/sac/index.js'
import { ARGS, CLIENT, invoke, keys, NOW, request, rootGrant, SERVER } from './fixtures.js'

const root = rootGrant()
const ctx = { serverPeer: SERVER, remotePeer: CLIENT, command: 'image/get', args: ARGS, now: NOW }

function outcome (r: ReturnType<typeof checkInvocation>): string {
  return r.ok ? 'ok' : r.reason
}

describe('invocations', () => {
  it('carry issuer, audience, origin, command, arguments hash, proof and a short expiry', () => {
    const inv = openInvocation(invoke(keys.doctor, root))
    expect(inv.audience).toBe(SERVER)
    expect(inv.origin).toBe(CLIENT)
    expect(inv.command).toBe('image/get')
    expect(inv.proofId).toBe(root.id)
    expect(inv.expiry - inv.issuedAt).toBe(60)
    expect(Buffer.from(inv.args).equals(Buffer.from(hashArguments({ lfn: 'lfn-A' })))).toBe(true)
  })

  it('allow ±60 s of clock skew and no more', () => {
    expect(outcome(checkInvocation(invoke(keys.doctor, root, { now: NOW + 59_000 }), ctx))).toBe('ok')
    expect(outcome(checkInvocation(invoke(keys.doctor, root, { now: NOW + 61_000 }), ctx))).toBe('NOT_YET_VALID')
    // Issued 100 s ago with a 60 s life: expired 40 s ago, still inside the skew.
    expect(outcome(checkInvocation(invoke(keys.doctor, root, { now: NOW - 100_000 }), ctx))).toBe('ok')
    expect(outcome(checkInvocation(invoke(keys.doctor, root, { now: NOW - 121_000 }), ctx))).toBe('EXPIRED')
  })

  it('live at most 120 s', () => {
    expect(outcome(checkInvocation(invoke(keys.doctor, root, { lifetimeS: 120 }), ctx))).toBe('ok')
    expect(outcome(checkInvocation(invoke(keys.doctor, root, { lifetimeS: 121 }), ctx))).toBe('LIFETIME_TOO_LONG')
  })

  it('are remembered until expiry, then forgotten; the injectable clock drives it', async () => {
    let now = NOW
    const ac = new AccessControl({ serverPeer: SERVER, clock: () => now })
    const req = request(keys.doctor, [root])
    expect((await ac.check(req)).allow).toBe(true)
    expect(ac.replay.size).toBe(1)
    now += 30_000
    const replay = await ac.check(req)
    expect(replay.allow ? 'ALLOW' : replay.reason).toBe('REPLAY')
    // After expiry + skew the invocation is refused as expired, and its id can go.
    now += 200_000
    const late = await ac.check(req)
    expect(late.allow ? 'ALLOW' : late.reason).toBe('EXPIRED')
    const fresh = await ac.check(request(keys.doctor, [root]))
    expect(fresh.allow ? 'ALLOW' : fresh.reason).toBe('EXPIRED') // the fixture invocation is issued at NOW
  })

  it('replay cache: refuses, never forgets early, sweeps expired ids', () => {
    const cache = new ReplayCache({ max: 2 })
    expect(cache.remember('a', NOW + 1000, NOW)).toBe('fresh')
    expect(cache.remember('a', NOW + 1000, NOW)).toBe('replay')
    expect(cache.remember('b', NOW + 5000, NOW)).toBe('fresh')
    expect(cache.remember('c', NOW + 5000, NOW)).toBe('full')
    expect(cache.remember('c', NOW + 5000, NOW + 2000)).toBe('fresh') // 'a' swept
    expect(cache.size).toBe(2)
    expect(cache.remember('b', NOW + 5000, NOW + 2000)).toBe('replay')
  })

  it('a full replay cache denies with OVERLOADED rather than forgetting', async () => {
    const ac = new AccessControl({ serverPeer: SERVER, clock: () => NOW, replay: new ReplayCache({ max: 1 }) })
    expect((await ac.check(request(keys.doctor, [root]))).allow).toBe(true)
    const d = await ac.check(request(keys.doctor, [root]))
    expect(d.allow ? 'ALLOW' : d.reason).toBe('OVERLOADED')
  })

  it('argument hashes are domain-separated canonical CBOR', () => {
    expect(Buffer.from(hashArguments({ a: 1, b: 2 })).equals(Buffer.from(hashArguments({ b: 2, a: 1 })))).toBe(true)
    expect(Buffer.from(hashArguments({ a: 1 })).equals(Buffer.from(hashArguments({ a: 2 })))).toBe(false)
    expect(() => hashArguments({ a: 1.5 })).toThrow()
  })
})

describe('authorization bundle', () => {
  it('round-trips invocation, chain and memberships, and rejects anything else', () => {
    const auth = { invocation: invoke(keys.doctor, root), chain: [root.bytes], memberships: [] }
    const decoded = decodeAuthorization(encodeAuthorization(auth))
    expect(Buffer.from(decoded.invocation).equals(Buffer.from(auth.invocation))).toBe(true)
    expect(decoded.chain.map(b => Buffer.from(b).toString('hex'))).toEqual([Buffer.from(root.bytes).toString('hex')])
    expect(() => decodeAuthorization(encodeCanonical({ ...auth, extra: 1 }, 1 << 16))).toThrow(/exactly/)
    expect(() => decodeAuthorization(encodeCanonical({ ...auth, chain: ['x'] }, 1 << 16))).toThrow(/byte strings/)
    expect(() => decodeAuthorization(new Uint8Array(100_000))).toThrow()
  })
})
