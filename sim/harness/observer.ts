/**
 * What the requesting site notices of the federation, timestamped: peers
 * connecting and disconnecting, and chunk sources its transfers dropped (as
 * corrupt, stalled, denied …). Fault scenarios read detection times off it.
 * It listens to libp2p events and wraps the chunk service's `fetch` to see
 * its progress events; nothing else changes.
 */
import type { PeerId } from '@libp2p/interface'
import type { HospitalNode } from '../../src/node/index.js'
import type { FetchOptions } from '../../src/protocols/chunks/index.js'

export interface PeerEvent { type: 'connect' | 'disconnect', peer: string, at: number }
export interface DropEvent { peer: string, reason: string, at: number }

export class RequesterObserver {
  readonly peers: PeerEvent[] = []
  readonly drops: DropEvent[] = []
  private readonly node: HospitalNode
  private readonly restore: () => void

  constructor (node: HospitalNode) {
    this.node = node
    const onConnect = (e: CustomEvent<PeerId>): void => { this.peers.push({ type: 'connect', peer: e.detail.toString(), at: performance.now() }) }
    const onDisconnect = (e: CustomEvent<PeerId>): void => { this.peers.push({ type: 'disconnect', peer: e.detail.toString(), at: performance.now() }) }
    node.libp2p.addEventListener('peer:connect', onConnect)
    node.libp2p.addEventListener('peer:disconnect', onDisconnect)
    const chunks = node.libp2p.services.chunks
    const original = chunks.fetch.bind(chunks)
    chunks.fetch = async (options: FetchOptions) => await original({
      ...options,
      onProgress: e => {
        if (e.type === 'source-dropped') this.drops.push({ peer: e.peer.toString(), reason: e.reason, at: performance.now() })
        options.onProgress?.(e)
      }
    })
    this.restore = () => {
      node.libp2p.removeEventListener('peer:connect', onConnect)
      node.libp2p.removeEventListener('peer:disconnect', onDisconnect)
      chunks.fetch = original
    }
  }

  /** First time after `from` that `peer` did `type`. */
  firstPeerEvent (type: PeerEvent['type'], peer: string, from: number): number | undefined {
    return this.peers.find(e => e.type === type && e.peer === peer && e.at >= from)?.at
  }

  firstDrop (peer: string, reason: string, from: number): number | undefined {
    return this.drops.find(e => e.peer === peer && e.reason === reason && e.at >= from)?.at
  }

  stop (): void { this.restore() }
}
