/**
 * Federation admission: the one place that decides whether a peer may hold a
 * connection to this node. The decision is taken after the noise handshake,
 * once the remote peer id is authenticated, for inbound and outbound
 * connections alike; dials to non-members are refused before they start.
 *
 * Today the members come from the config file; the signed federation roster
 * (access-control issue) provides another `MemberDirectory`.
 */
import type { ConnectionGater, Logger, PeerId } from '@libp2p/interface'

/** Who belongs to the federation. */
export interface MemberDirectory {
  isMember: (peerId: PeerId) => boolean
}

/** A fixed list of member peer ids, as written in the config. */
export function staticMembers (peerIds: Iterable<string>): MemberDirectory {
  const set = new Set(peerIds)
  return { isMember: (peerId) => set.has(peerId.toString()) }
}

/** Counts of refusals, for status and tests. */
export interface AdmissionStats {
  refusedInbound: number
  refusedOutbound: number
}

export interface Admission {
  gater: ConnectionGater
  stats: AdmissionStats
}

/**
 * A connection gater that refuses any peer the directory does not list. The
 * refusal is logged with the peer id and remote address (no patient data
 * exists at this layer).
 */
export function federationAdmission (members: MemberDirectory, log: Logger): Admission {
  const stats: AdmissionStats = { refusedInbound: 0, refusedOutbound: 0 }
  const gater: ConnectionGater = {
    denyDialPeer: (peerId) => !members.isMember(peerId),
    denyInboundEncryptedConnection: (peerId, maConn) => {
      if (members.isMember(peerId)) return false
      stats.refusedInbound++
      log('refused inbound connection from non-member %p at %a', peerId, maConn.remoteAddr)
      return true
    },
    denyOutboundEncryptedConnection: (peerId, maConn) => {
      if (members.isMember(peerId)) return false
      stats.refusedOutbound++
      log('refused outbound connection to non-member %p at %a', peerId, maConn.remoteAddr)
      return true
    }
  }
  return { gater, stats }
}
