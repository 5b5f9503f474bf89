/**
 * The federation roster: m-of-n signatures, the file format, the member
 * directory the connection gater takes, and version replacement.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { federationAdmission } from '../../src/node/admission.js'
import {
  createRoster, formatRosterFile, generateSigner, LiveRoster, openRoster, openRosterFile, parseRosterFile,
  parseRosterPayload, rosterMembers, signRoster, withSite
} from '../../src/sac/index.js'
import type { RosterPayload, RosterSite, SeededSigner } from '../../src/sac/index.js'
import { DAY, NOW, S } from './fixtures.js'

const authorities = [generateSigner(), generateSigner(), generateSigner()]
const outsider = generateSigner()
const peers: PeerId[] = await Promise.all(Array.from({ length: 4 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
const peer = (i: number): PeerId => peers[i] as PeerId
const hex = (s: SeededSigner): string => Buffer.from(s.publicKey).toString('hex')

function site (i: number, overrides: Partial<RosterSite> = {}): RosterSite {
  return { peerId: peer(i).toString(), name: `Hospital ${'ABCD'[i] ?? 'X'}`, roles: ['storage', 'trusted'], notBefore: S - DAY, expiry: S + 365 * DAY, ...overrides }
}

/** A 2-of-3 roster: A trusted+storage, B storage only, C expired, D not valid yet. */
function roster (version = 1, set = authorities, threshold = 2): RosterPayload {
  let p = createRoster({ federation: 'Test Federation', authorities: set.map(a => a.publicKey), threshold, issuedAt: S })
  p = withSite(p, site(0))
  p = withSite(p, site(1, { roles: ['storage'] }))
  p = withSite(p, site(2, { notBefore: S - 30 * DAY, expiry: S - DAY }))
  p = withSite(p, site(3, { notBefore: S + DAY }))
  return { ...p, version }
}

function signed (p: RosterPayload, ...by: SeededSigner[]): Uint8Array[] {
  return by.map(a => signRoster(p, a))
}

function reason (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect((err as Error).name).toBe('RosterError')
    return (err as { reason: string }).reason
  }
  return 'ACCEPTED'
}

const [a1, a2, a3] = authorities as [SeededSigner, SeededSigner, SeededSigner]

describe('roster signatures (m of n)', () => {
  it('needs the threshold of distinct authorities, over one payload', () => {
    const p = roster()
    const verified = openRoster(signed(p, a1, a3))
    expect(verified.signers).toEqual([hex(a1), hex(a3)])
    expect(verified.sites.map(s => s.name)).toEqual([...p.sites].map(s => s.name))
    expect(reason(() => openRoster(signed(p, a2)))).toBe('THRESHOLD')
    expect(reason(() => openRoster([]))).toBe('THRESHOLD')
    expect(reason(() => openRoster([...signed(p, a1), ...signed(p, a1)]))).toBe('MALFORMED')
    expect(reason(() => signRoster(p, outsider))).toBe('UNKNOWN_SIGNER')
    const other = withSite(p, site(1, { roles: ['trusted'] }))
    expect(reason(() => openRoster([...signed(p, a1), ...signed(other, a2)]))).toBe('PAYLOAD_MISMATCH')
  })

  it('refuses tampered envelopes and payloads that are not canonical', () => {
    const p = roster()
    const [s1, s2] = signed(p, a1, a2) as [Uint8Array, Uint8Array]
    const bad = Uint8Array.from(s2)
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    expect(reason(() => openRoster([s1, bad]))).toBe('BAD_SIGNATURE')
    const unsorted = { ...p, sites: [...p.sites].reverse() }
    expect(() => parseRosterPayload(unsorted)).toThrow(/sorted/)
    expect(() => parseRosterPayload({ ...p, authorities: { keys: p.authorities.keys, threshold: 4 } })).toThrow(/threshold/)
    expect(reason(() => withSite(p, site(0, { peerId: 'not-a-peer-id' })))).toBe('MALFORMED')
    expect(reason(() => withSite(p, { ...site(0), roles: ['admin' as 'trusted'] }))).toBe('MALFORMED')
  })

  it('round-trips through the roster file, which checks envelopes against its payload', () => {
    const p = roster()
    const text = formatRosterFile(p, signed(p, a2, a3))
    expect(JSON.parse(text)).toMatchObject({ format: 'dm2-roster', version: 1 })
    expect(openRosterFile(text).version).toBe(1)
    const file = JSON.parse(text) as { payload: string }
    const swapped = JSON.stringify({ ...file, payload: JSON.parse(formatRosterFile(withSite(p, site(1, { roles: [] })))).payload })
    expect(reason(() => openRosterFile(swapped))).toBe('PAYLOAD_MISMATCH')
    expect(reason(() => parseRosterFile('{"format":"dm2-roster","version":1,"payload":"%%%","signatures":[]}'))).toBe('MALFORMED')
    expect(reason(() => parseRosterFile('not json'))).toBe('MALFORMED')
    expect(parseRosterFile(formatRosterFile(p)).signatures).toEqual([])
    // A pinned authority set must have signed too.
    expect(reason(() => openRosterFile(text, { keys: [a1.publicKey], threshold: 1 }))).toBe('THRESHOLD')
    expect(openRosterFile(text, { keys: [a3.publicKey], threshold: 1 }).id).toBe(openRosterFile(text).id)
  })
})

describe('roster members', () => {
  it('lists only sites valid now, with their roles', () => {
    const members = rosterMembers(openRoster(signed(roster(), a1, a2)), NOW)
    expect(peers.map(p => members.isMember(p))).toEqual([true, true, false, false])
    expect(members.isTrusted(peer(0))).toBe(true)
    expect(members.isTrusted(peer(1))).toBe(false)
    expect(members.isStorage(peer(1))).toBe(true)
    expect(members.storageSites().sort()).toEqual([peer(0).toString(), peer(1).toString()].sort())
    expect(members.trustedSites()).toEqual([peer(0).toString()])
    expect(members.site(peer(0))?.name).toBe('Hospital A')
    // Judged at each call when given a clock: D becomes a member once its validity starts.
    let now = NOW
    const live = rosterMembers(roster(), () => now)
    expect(live.isMember(peer(3))).toBe(false)
    now += 2 * DAY * 1000
    expect(live.isMember(peer(3))).toBe(true)
  })

  it('is the MemberDirectory the connection gater takes', async () => {
    const members = rosterMembers(openRoster(signed(roster(), a1, a2)), NOW)
    const { gater } = federationAdmission(members, Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => { throw new Error('unused') } }))
    expect(await gater.denyDialPeer?.(peer(0))).toBe(false)
    expect(await gater.denyDialPeer?.(peer(2))).toBe(true)
  })
})

describe('roster updates', () => {
  it('a newer version signed by the current authorities replaces the roster; never an older one', () => {
    const live = new LiveRoster(openRoster(signed(roster(2), a1, a2)), () => NOW)
    expect(live.update(openRoster(signed(roster(1), a1, a2, a3)))).toBe(false)
    expect(live.update(openRoster(signed(roster(2), a2, a3)))).toBe(false)
    expect(live.current.version).toBe(2)
    const v3 = withSite(roster(3), site(1, { roles: [] }))
    expect(live.update(openRoster(signed(v3, a2, a3)))).toBe(true)
    expect(live.current.version).toBe(3)
    expect(live.isStorage(peer(1))).toBe(false)
    expect(live.isMember(peer(1))).toBe(true)
    expect(reason(() => live.update(openRoster(signed({ ...roster(4), federation: 'Other' }, a1, a2))))).toBe('WRONG_FEDERATION')
  })

  it('rotating authorities needs a threshold of the current ones', () => {
    const live = new LiveRoster(openRoster(signed(roster(1), a1, a2)), () => NOW)
    const newSet = [generateSigner(), generateSigner()] as [SeededSigner, SeededSigner]
    const rotated = roster(2, newSet, 2)
    // Signed by the new set only: valid on its own, but the current authorities never agreed.
    expect(reason(() => live.update(openRoster(signed(rotated, ...newSet))))).toBe('THRESHOLD')
    expect(live.current.version).toBe(1)
    // A current authority co-signs only when it says which set it acts for.
    expect(reason(() => signRoster(rotated, a1))).toBe('UNKNOWN_SIGNER')
    const consent = [a1, a3].map(a => signRoster(rotated, a, live.current.authorities))
    // Outsiders' signatures never count towards the roster's own threshold.
    expect(reason(() => openRoster([...consent, ...signed(rotated, newSet[0])]))).toBe('THRESHOLD')
    expect(live.update(openRoster([...signed(rotated, ...newSet), ...consent]))).toBe(true)
    expect(live.current.authorities.keys).toHaveLength(2)
    // From now on the old authorities cannot take the roster back, even naming themselves again.
    const takeBack = openRoster(signed(roster(3), a1, a2))
    expect(reason(() => live.update(takeBack))).toBe('THRESHOLD')
    expect(live.current.version).toBe(2)
  })
})
