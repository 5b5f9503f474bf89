/**
 * The network half of a hospital node's start-up, in order: admission (the
 * roster as a connection gater), the DHT record validator with its
 * anti-rollback versions, libp2p with every protocol service, the
 * localization service, the bootstrapper and the routing keeper.
 * `hospital-node.ts` owns the lifecycle: each part registers its closer as
 * soon as it exists, so a start cut short closes exactly what was opened.
 */
import type { ComponentLogger, PrivateKey } from '@libp2p/interface'
import { DEFAULT_BOOTSTRAP_RETRY_MAX_MS, DEFAULT_BOOTSTRAP_RETRY_MS } from '../config/defaults.js'
import type { HospitalConfig } from '../config/load.js'
import { Localization, RecordValidator } from '../dht/index.js'
import { federationAdmission, type AdmissionStats, type MemberDirectory } from './admission.js'
import { Bootstrapper } from './bootstrap.js'
import type { DataPlane } from './data-plane.js'
import type { NodeDatabase } from './database.js'
import { buildLibp2p, type HospitalLibp2p } from './libp2p.js'
import { startRoutingKeeper } from './routing-keeper.js'
import type { NodeSimilarity } from './similarity/index.js'
import { CHUNKS_PROTOCOL } from '../protocols/chunks/constants.js'
import { IMAGE_PROTOCOL } from '../protocols/image/index.js'
import { KEYS_PROTOCOL } from '../protocols/keys/index.js'

/** Streams that carry image data: while one is open, background work waits. */
const DATA_PROTOCOLS = new Set([CHUNKS_PROTOCOL, IMAGE_PROTOCOL, KEYS_PROTOCOL])

/** Foreground work: an image, chunk or key stream open on any connection. */
export function servingData (libp2p: HospitalLibp2p | undefined): boolean {
  return libp2p?.getConnections().some(c => c.streams.some(st => st.protocol !== undefined && DATA_PROTOCOLS.has(st.protocol))) ?? false
}

export interface NetworkInit {
  config: HospitalConfig
  privateKey: PrivateKey
  members: MemberDirectory
  isMember: (peer: string) => boolean
  db: NodeDatabase
  dataPlane: DataPlane
  similarity: NodeSimilarity
  logger: ComponentLogger
  /** Registers a closer, run in reverse order of registration when the node stops. */
  onClose: (close: () => Promise<void> | void) => void
  /** Throws once the start has been aborted. */
  checkpoint: () => void
  /** Called with libp2p as soon as it is built, before it starts (for the node's getters). */
  built: (libp2p: HospitalLibp2p) => void
}

export interface NodeNetwork {
  libp2p: HospitalLibp2p
  localization: Localization
  admission: AdmissionStats
}

export async function startNetwork (init: NetworkInit): Promise<NodeNetwork> {
  const { config, logger, onClose } = init
  const admission = federationAdmission(init.members, logger.forComponent('dm2:admission'))
  const validator = new RecordValidator({
    members: init.members,
    versions: init.db.sublevel<string, Uint8Array>('dht-versions', { valueEncoding: 'view' })
  })
  const libp2p = await buildLibp2p({
    records: validator,
    dataPlane: init.dataPlane.services(),
    similarity: init.similarity.services(),
    privateKey: init.privateKey,
    listen: config.listen,
    announce: config.announce,
    gater: admission.gater,
    logger
  })
  init.built(libp2p)
  onClose(async () => { await libp2p.stop() })
  await libp2p.start()
  init.checkpoint()

  const localization = new Localization({
    dht: libp2p.services.dht,
    privateKey: init.privateKey,
    peerId: libp2p.peerId,
    validator,
    log: logger.forComponent('dm2:dht')
  })
  localization.start()
  onClose(() => { localization.stop() })

  const bootstrapper = new Bootstrapper({
    dial: async (addr, options) => await libp2p.dial(addr, options),
    isConnected: (peerId) => libp2p.getConnections(peerId).length > 0,
    events: libp2p,
    log: logger.forComponent('dm2:bootstrap')
  }, { peers: config.bootstrap, retryMs: DEFAULT_BOOTSTRAP_RETRY_MS, retryMaxMs: DEFAULT_BOOTSTRAP_RETRY_MAX_MS })
  bootstrapper.start()
  onClose(() => { bootstrapper.stop() })

  // A member connected but missing from the routing table is identified again.
  const keeper = startRoutingKeeper(libp2p, init.isMember, logger.forComponent('dm2:routing'))
  onClose(async () => { await keeper.stop() })
  return { libp2p, localization, admission: admission.stats }
}
