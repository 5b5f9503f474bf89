/**
 * A small federation of real TCP libp2p nodes carrying the chunk, replicate
 * and ping services, each with a replica store on disk. The DHT's provider
 * records are stood in for by a shared in-memory directory (the DHT has its
 * own tests); the SAC check of readers by a set of allowed reader peers.
 */
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { defaultLogger } from '@libp2p/logger'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { Level } from 'level'
import { createLibp2p, type Libp2p } from 'libp2p'
import { streamMuxer } from '../../src/node/libp2p.js'
import {
  buildManifest, encodeSignedManifest, generateDataKey, libp2pSigner, sealPayload, signManifest, type Manifest, type SealedChunk
} from '../../src/privacy/payload/index.js'
import { chunkTransfer, type ChunkTransfer } from '../../src/protocols/chunks/index.js'
import type { ChunkStore } from '../../src/protocols/chunks/types.js'
import { ReplicaManager, ReplicaStore, replicateService, ticketAuthorizer, unionChunkStore, type MasteredVersion, type Replicate } from '../../src/replicas/index.js'

export type SiteNode = Libp2p<{ chunks: ChunkTransfer, replicate: Replicate, ping: Ping }>

export interface Federation {
  /** Content id (base32 CID string) → peers providing it: the DHT's provider records. */
  providers: Map<string, Set<string>>
  members: Set<string>
  storage: Set<string>
  readers: Set<string>
}

export interface Site {
  name: string
  id: string
  peerId: PeerId
  key: PrivateKey
  node: SiteNode
  store: ReplicaStore
  db: Level<string, Uint8Array>
  /** Versions this site masters, by lfn (the image cache of a real node). */
  mastered: Map<string, { version: MasteredVersion, chunks: SealedChunk[] }>
  stop: () => Promise<void>
}

export function newFederation (): Federation {
  return { providers: new Map(), members: new Set(), storage: new Set(), readers: new Set() }
}

export async function startSite (fed: Federation, name: string, dir: string, roles: { storage?: boolean, reader?: boolean } = {}): Promise<Site> {
  const key = await generateKeyPair('Ed25519')
  const db = new Level<string, Uint8Array>(join(dir, name, 'db'), { valueEncoding: 'view' })
  await db.open()
  const store = await ReplicaStore.open(join(dir, name, 'replicas'), db.sublevel<string, Uint8Array>('replicas', { valueEncoding: 'view' }))
  const mastered = new Map<string, { version: MasteredVersion, chunks: SealedChunk[] }>()
  const masterChunks = (cid: Uint8Array): SealedChunk[] | undefined =>
    [...mastered.values()].find(m => Buffer.compare(m.version.contentId, cid) === 0)?.chunks
  let self = ''
  // What a node serves: its own (master) chunks, then its replicas.
  const masterStore: ChunkStore = {
    has: async cid => masterChunks(cid) !== undefined,
    read: async (cid, i) => masterChunks(cid)?.[i]?.bytes
  }
  const chunkStore = unionChunkStore([masterStore, store])
  const tickets = ticketAuthorizer({
    isStorage: p => fed.storage.has(p),
    masterOf: async cid => masterChunks(cid) !== undefined ? self : store.entryOf(cid)?.master
  })
  const node: SiteNode = await createLibp2p({
    privateKey: key,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    services: {
      ping: ping(),
      chunks: chunkTransfer({
        store: chunkStore,
        authorize: async req => await tickets(req) ?? (fed.readers.has(req.remotePeer.toString()) ? { allow: true } : { allow: false, reason: 'NO_SAC' })
      }),
      replicate: replicateService({
        store,
        isMember: p => fed.members.has(p),
        isStorage: p => fed.storage.has(p),
        fetch: async o => await node.services.chunks.fetch(o),
        provide: async cid => {
          const set = fed.providers.get(cid.toString()) ?? new Set()
          fed.providers.set(cid.toString(), set.add(self))
        }
      })
    }
  })
  self = node.peerId.toString()
  fed.members.add(self)
  if (roles.storage === true) fed.storage.add(self)
  if (roles.reader === true) fed.readers.add(self)
  return {
    name,
    id: self,
    peerId: node.peerId,
    key,
    node,
    store,
    db,
    mastered,
    stop: async () => {
      await node.stop()
      await db.close()
    }
  }
}

/** Seals `size` random bytes as `lfn@version` mastered by `site` (chunks of 64 KiB) and announces the master as provider. */
export async function master (fed: Federation, site: Site, lfn: string, version: number, size = 2 * 1024 * 1024): Promise<{ manifest: Manifest, chunks: SealedChunk[], version: MasteredVersion }> {
  const plain = new Uint8Array(size).map((_, i) => (i * 31 + version) & 0xff)
  const sealed = await sealPayload(plain, generateDataKey(), { fileId: lfn, version, chunkSize: 64 * 1024 })
  const manifest = buildManifest({ layout: sealed.layout, chunks: sealed.refs, deidProfile: 'ps3.15-basic', master: site.id })
  const wire = encodeSignedManifest(await signManifest(manifest, libp2pSigner(site.key)))
  const v: MasteredVersion = { lfn, version, contentId: manifest.merkleRoot, manifest: wire }
  site.mastered.set(lfn, { version: v, chunks: sealed.chunks })
  return { manifest, chunks: sealed.chunks, version: v }
}

export function managerFor (fed: Federation, site: Site, opts: { factor?: number, graceMs?: number, reconcileMs?: number } = {}): ReplicaManager {
  return new ReplicaManager({
    peerId: site.peerId,
    privateKey: site.key,
    ...(opts.factor === undefined ? {} : { replicationFactor: opts.factor }),
    ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }),
    ...(opts.reconcileMs === undefined ? {} : { reconcileMs: opts.reconcileMs }),
    storageSites: () => [...fed.storage],
    mastered: async () => [...site.mastered.values()].map(m => m.version),
    findHolders: async cid => {
      return [...(fed.providers.get(cid.toString()) ?? [])].map(p => peerIdFromString(p))
    },
    replicate: async (peer, req, options) => await site.node.services.replicate.request(peer, req, options),
    ping: async (peer, options) => await site.node.services.ping.ping(peer, options),
    log: defaultLogger().forComponent(`test:replicas:${site.name}`)
  })
}

/** Dials every pair so pings and streams need no discovery. */
export async function connectAll (sites: Site[]): Promise<void> {
  for (const a of sites) {
    for (const b of sites) {
      if (a !== b) await a.node.dial(b.node.getMultiaddrs())
    }
  }
}
