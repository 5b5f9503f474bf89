/**
 * One measured DHT lookup from a running hospital node: findPeer, findProviders
 * of a provided content id, or get of a signed LFN record. Latency is the time
 * to the first *verified* answer from another node (the requester's own store
 * never counts); hops are counted as hops.ts describes.
 */
import { setMaxListeners } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import type { QueryEvent } from '@libp2p/kad-dht'
import { lfnKey, openLfnRecord } from '../../src/dht/index.js'
import type { HospitalNode } from '../../src/node/index.js'
import { LOOKUP_TIMEOUT_MS } from './constants.js'
import { HopTracker } from './hops.js'
import { objectCid } from './objects.js'
import type { LookupRequest, LookupResult } from './protocol.js'

interface Answer { ms: number, hops: number, contacted: number, asked: number }

function need (value: string | undefined, what: string): string {
  if (value === undefined) throw new TypeError(`lookup lacks ${what}`)
  return value
}

/** Verifies a record: a valid signature by the expected master, for the expected LFN. */
async function isExpectedRecord (bytes: Uint8Array, lfn: string, publisher: string): Promise<boolean> {
  try {
    const record = await openLfnRecord(bytes)
    return record.lfn === lfn && record.master === publisher
  } catch {
    return false
  }
}

export async function runLookup (node: HospitalNode, req: LookupRequest, timeoutMs = LOOKUP_TIMEOUT_MS): Promise<LookupResult> {
  const dht = node.libp2p.services.dht
  const self = node.peerId.toString()
  const tracker = new HopTracker(self)
  const signal = AbortSignal.timeout(timeoutMs)
  // kad-dht listens on it once per disjoint path (up to K = 20), as its own signals allow.
  setMaxListeners(Infinity, signal)
  const started = performance.now()
  const answer = (from: { toString: () => string }): Answer =>
    ({ ms: performance.now() - started, hops: tracker.depthOf(from.toString()), contacted: tracker.contacted, asked: tracker.asked })
  const fail = (error: string): LookupResult => ({ ok: false, ms: performance.now() - started, hops: 0, contacted: tracker.contacted, asked: tracker.asked, error })
  const remote = (e: QueryEvent): boolean => 'from' in e && e.from.toString() !== self

  try {
    if (req.kind === 'findPeer') {
      const target = peerIdFromString(need(req.peer, 'peer'))
      // useCache: false asks the network, not the peer store.
      for await (const e of dht.findPeer(target, { signal, useCache: false })) {
        tracker.observe(e)
        if (e.name === 'FINAL_PEER' && remote(e) && e.peer.id.equals(target) && e.peer.multiaddrs.length > 0) {
          return { ok: true, ...answer(e.from) }
        }
      }
      return fail('NotFound')
    }

    const lfn = need(req.lfn, 'lfn')
    const publisher = need(req.publisher, 'publisher')
    if (req.kind === 'findProviders') {
      // A PEER_RESPONSE naming the publisher: kad-dht's PROVIDER event would
      // hide a remote answer behind a local provider record.
      for await (const e of dht.findProviders(objectCid(lfn), { signal })) {
        tracker.observe(e)
        if (e.name === 'PEER_RESPONSE' && remote(e) && e.providers.some(p => p.id.toString() === publisher)) {
          return { ok: true, ...answer(e.from) }
        }
      }
      return fail('NotFound')
    }

    // getLfn: the first verified record from another node, then kad-dht's
    // choice of the best record once the query ends (what resolveLfn returns).
    let first: Answer | undefined
    let best: Uint8Array | undefined
    for await (const e of dht.get(lfnKey(lfn), { signal })) {
      tracker.observe(e)
      if (first === undefined && e.name === 'PEER_RESPONSE' && remote(e) && e.record != null &&
          await isExpectedRecord(e.record.value, lfn, publisher)) first = answer(e.from)
      if (e.name === 'VALUE') best = e.value
    }
    const doneMs = performance.now() - started
    if (first === undefined) return fail('NotFound')
    if (best === undefined || !await isExpectedRecord(best, lfn, publisher)) return { ...fail('BadRecord'), doneMs }
    return { ok: true, ...first, doneMs }
  } catch (err) {
    return fail((err as Error).name)
  }
}
