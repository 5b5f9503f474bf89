/**
 * The libp2p stack of a hospital node: TCP + noise + yamux, identify, ping and
 * a private Kademlia DHT in server mode. Built explicitly here, fully typed;
 * `hospital-node.ts` owns its lifecycle.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT, type SelectFn, type ValidateFn } from '@libp2p/kad-dht'
import type { ComponentLogger, ConnectionGater, PrivateKey } from '@libp2p/interface'
import { DHT_PROTOCOL } from '../config/defaults.js'
import { DHT_NAMESPACE } from '../dht/constants.js'
import type { ChunkTransfer, ChunkTransferComponents } from '../protocols/chunks/index.js'
import type { ImageComponents, ImageRequester } from '../protocols/image/index.js'
import type { KeyRelease, KeyReleaseComponents } from '../protocols/keys/index.js'
import type { RevocationPush, RevocationPushComponents } from '../protocols/revocations/index.js'
import type { MetadataQuery, MetadataQueryComponents } from '../protocols/query/index.js'
import type { Replicate, ReplicateComponents } from '../replicas/index.js'
import type {
  Annotation, AnnotationComponents, SimilarityRanking, SimilarityRankingComponents
} from '../protocols/similarity/index.js'

export type HospitalServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  chunks: ChunkTransfer
  keys: KeyRelease
  image: ImageRequester
  revocations: RevocationPush
  query: MetadataQuery
  replicate: Replicate
  similarity: SimilarityRanking
  annotate: Annotation
}

/** The data-plane services (DataPlane.services()). */
export interface DataPlaneServices {
  chunks: (components: ChunkTransferComponents) => ChunkTransfer
  keys: (components: KeyReleaseComponents) => KeyRelease
  image: (components: ImageComponents) => ImageRequester
  revocations: (components: RevocationPushComponents) => RevocationPush
  query: (components: MetadataQueryComponents) => MetadataQuery
  replicate: (components: ReplicateComponents) => Replicate
}

/** The similarity services (src/node/similarity: NodeSimilarity.services()). */
export interface SimilarityServices {
  similarity: (components: SimilarityRankingComponents) => SimilarityRanking
  annotate: (components: AnnotationComponents) => Annotation
}

export type HospitalLibp2p = Libp2p<HospitalServices>

/** Largest yamux receive window per stream: high throughput on a LAN, bounded memory per stream. */
export const YAMUX_MAX_STREAM_WINDOW = 8 * 1024 * 1024
/**
 * A paused stream keeps buffering what the remote was already allowed to send
 * (up to one window); libp2p's default 4 MB cap would abort it. Above the window.
 */
export const STREAM_MAX_READ_BUFFER = 32 * 1024 * 1024

/** The stream muxer every node uses. */
export function streamMuxer (): ReturnType<typeof yamux> {
  return yamux({ streamOptions: { maxStreamWindowSize: YAMUX_MAX_STREAM_WINDOW, maxReadBufferLength: STREAM_MAX_READ_BUFFER } })
}

export interface Libp2pInit {
  dataPlane: DataPlaneServices
  similarity: SimilarityServices
  /** kad-dht validator and selector of the `/dm2/…` record namespace. */
  records: { validate: ValidateFn, select: SelectFn }
  privateKey: PrivateKey
  listen: string[]
  announce: string[]
  gater: ConnectionGater
  logger: ComponentLogger
}

/** Creates (does not start) the node's libp2p instance. */
export async function buildLibp2p (init: Libp2pInit): Promise<HospitalLibp2p> {
  return await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    logger: init.logger,
    addresses: { listen: init.listen, announce: init.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [streamMuxer()],
    connectionGater: init.gater,
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        // A hospital federation is a private network, often on private or
        // loopback addresses; the default mapper would drop those and leave
        // every routing table empty. Admission already filters who we talk to.
        peerInfoMapper: passthroughMapper,
        clientMode: false,
        validators: { [DHT_NAMESPACE]: init.records.validate },
        selectors: { [DHT_NAMESPACE]: init.records.select }
      }),
      ...init.dataPlane,
      ...init.similarity
    }
  })
}
