/**
 * Who is who in the federation, as a node sees it: members (admission), and
 * the roles a signed roster gives them — `storage` sites may hold replicas,
 * `trusted` sites offer metadata. With a plain member list (no roster) every
 * member plays every role.
 */
import { readFile } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import type { HospitalConfig } from '../config/load.js'
import { LiveRoster, openRosterFile } from '../sac/index.js'
import type { MemberDirectory } from './admission.js'

/** What a roster adds to a member directory (see `RosterDirectory`). */
type WithRoles = MemberDirectory & {
  isStorage?: (peer: { toString: () => string }) => boolean
  storageSites?: () => string[]
  trustedSites?: () => string[]
}

/** The signed roster named by the config, checked against the pinned authorities if any. */
export async function loadRoster (config: HospitalConfig): Promise<MemberDirectory> {
  const file = config.roster as string
  const trust = config.federationAuthorities === undefined
    ? undefined
    : { keys: config.federationAuthorities.keys.map(k => new Uint8Array(Buffer.from(k, 'hex'))).sort(Buffer.compare), threshold: config.federationAuthorities.threshold }
  return new LiveRoster(openRosterFile(await readFile(file, 'utf8'), trust))
}

export class SiteRoles {
  private readonly members: WithRoles
  private readonly listed: string[]

  constructor (members: MemberDirectory, listed: string[]) {
    this.members = members
    this.listed = listed
  }

  isMember (peer: string): boolean {
    return this.members.isMember(peerIdFromString(peer))
  }

  isStorage (peer: string): boolean {
    return this.members.isStorage?.(peer) ?? this.isMember(peer)
  }

  /** Sites that may hold replicas, other than `self`. */
  storageSites (self: string): string[] {
    return (this.members.storageSites?.() ?? this.listed).filter(p => p !== self)
  }

  /** Sites offering metadata. */
  metadataSites (): string[] {
    return this.members.trustedSites?.() ?? this.listed
  }
}
