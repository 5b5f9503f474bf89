/**
 * A hospital node's side of the local control channel (`dm2 status`, `dm2
 * audit`, `dm2 revoke`, `dm2 features`, …): the node's own commands next to
 * those its modules contribute, served on `<dataDir>/control.sock`.
 */
import { join } from 'node:path'
import type { ComponentLogger } from '@libp2p/interface'
import type { CacheFillStats } from './cache-fills.js'
import { auditControlHandlers } from '../audit/index.js'
import { CONTROL_SOCKET_NAME } from '../config/defaults.js'
import { ControlServer, type ControlHandler } from '../control/index.js'
import type { Localization } from '../dht/index.js'
import { revocationControlHandlers } from '../protocols/revocations/index.js'
import { openRevocation, type RevocationStore } from '../sac/index.js'
import type { AdmissionStats } from './admission.js'
import type { DataPlane } from './data-plane.js'
import type { HospitalLibp2p } from './libp2p.js'
import type { NodeSimilarity } from './similarity/index.js'

export interface NodeControlInit {
  dataDir: string
  libp2p: HospitalLibp2p
  localization: Localization
  dataPlane: DataPlane
  similarity: NodeSimilarity
  /** `dm2 status` (the node's `statusReport`). */
  status: () => Record<string, unknown>
  /** The node's table of commands: filled here, and by modules before (replication). */
  handlers: Record<string, ControlHandler>
  logger: ComponentLogger
}

export interface StatusInputs {
  name: string
  members: number
  libp2p: HospitalLibp2p
  dataPlane: DataPlane
  admission: AdmissionStats
  /** The slices fetched from the PACS against their byte budget. */
  sliceFills?: CacheFillStats
}

/** What `dm2 status` shows: identity, addresses, peers, admission, cache use, image queue. */
export function nodeStatus (init: StatusInputs): Record<string, unknown> {
  const { libp2p, dataPlane } = init
  return {
    name: init.name,
    peerId: libp2p.peerId.toString(),
    addresses: libp2p.getMultiaddrs().map(a => a.toString()),
    peers: libp2p.getPeers().map(p => p.toString()),
    members: init.members,
    connections: libp2p.getConnections().length,
    refusedConnections: { ...init.admission },
    dhtMode: libp2p.services.dht.getMode(),
    // Cache use per layer (bytes, entries, hits, misses) and the image queue (running, queued, BUSY answers).
    cache: { ...dataPlane.cache.stats(), ...(init.sliceFills === undefined ? {} : { pacsSlices: init.sliceFills }) },
    queue: dataPlane.pipeline.stats()
  }
}

/** Adds the node's commands to `init.handlers` and starts serving them; stop the server to close. */
export async function startNodeControl (init: NodeControlInit): Promise<ControlServer> {
  const { libp2p, localization, dataPlane } = init
  init.handlers.status = async () => init.status()
  Object.assign(init.handlers,
    auditControlHandlers(dataPlane.audit),
    revocationControlHandlers({
      // Pushed to connected members now, and stored in the DHT for those away.
      publish: async (notice) => {
        const result = await libp2p.services.revocations.publish(notice)
        await localization.publishRevocation(openRevocation(notice).target, notice).catch(() => 0)
        return result
      }
    }, dataPlane.revocations as RevocationStore),
    init.similarity.controlHandlers())
  const control = new ControlServer({
    socketPath: join(init.dataDir, CONTROL_SOCKET_NAME),
    handlers: init.handlers,
    log: init.logger.forComponent('dm2:control')
  })
  await control.start()
  return control
}
