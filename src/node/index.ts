/**
 * The hospital node: one per hospital. Builds libp2p (TCP + noise + yamux,
 * identify, ping, private kad-dht `/dm2/kad/1.0.0`), the node's persistent
 * identity and its LevelDB, and admits only federation members.
 *
 * @example
 * ```ts
 * import { loadConfig } from '../config/index.js'
 * import { createHospitalNode } from './index.js'
 *
 * const node = createHospitalNode(await loadConfig({ file: 'hospital-a/dm2.json' }))
 * await node.start()
 * console.log(node.peerId.toString(), node.getMultiaddrs())
 * await node.stop()
 * ```
 */
import '../polyfill.js'

export { createHospitalNode, HospitalNode, type HospitalNodeOptions, type NodeState, type NodeDatabase } from './hospital-node.js'
export { federationAdmission, staticMembers, type MemberDirectory, type AdmissionStats } from './admission.js'
export { loadOrCreateIdentity, readIdentity, type Identity } from './identity.js'
export type { HospitalLibp2p, HospitalServices } from './libp2p.js'
export * from './errors.js'
