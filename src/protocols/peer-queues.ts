/**
 * Client-side stream limits: at most N requests of one protocol in flight to
 * one peer, the rest wait their turn (FIFO, abortable while waiting). libp2p
 * refuses to open more than `maxOutboundStreams` streams of a protocol on a
 * connection; without this, a burst of requests to one site would fail with
 * "too many outbound streams" instead of queueing behind each other.
 */
import type { PeerId } from '@libp2p/interface'
import PQueue from 'p-queue'
import { addAbortable } from '../tx/queue.js'

export class PeerQueues {
  private readonly queues = new Map<string, PQueue>()
  private readonly concurrency: number

  constructor (concurrency: number) {
    this.concurrency = concurrency
  }

  /** Runs `job` once fewer than `concurrency` jobs for `peer` are running. */
  async run<T> (peer: PeerId, job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const key = peer.toString()
    let queue = this.queues.get(key)
    if (queue === undefined) {
      const created = new PQueue({ concurrency: this.concurrency })
      // Forget idle peers so the map does not grow with every peer ever asked.
      created.on('idle', () => { if (this.queues.get(key) === created) this.queues.delete(key) })
      this.queues.set(key, created)
      queue = created
    }
    return await addAbortable(queue, signal, job)
  }

  /** Requests waiting and running per peer (for status and tests). */
  stats (): Record<string, { running: number, waiting: number }> {
    return Object.fromEntries([...this.queues].map(([k, q]) => [k, { running: q.pending, waiting: q.size }]))
  }
}
