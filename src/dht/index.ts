/**
 * DSE² localization in the Kademlia DHT: signed LFN and site records under
 * `/dm2/…`, validated (signature, roster membership, size, expiry) and guarded
 * against rollback on every node, plus provider records for content ids.
 *
 * @example
 * ```ts
 * const validator = new RecordValidator({ members, versions })
 * // kadDHT({ validators: { dm2: validator.validate }, selectors: { dm2: validator.select }, … })
 * const loc = new Localization({ dht, privateKey, peerId, validator, log })
 * await loc.publishLfn({ lfn, version: 1, contentId, manifestHash, meta: { modality: 'CT' }, cid })
 * const record = await loc.resolveLfn(lfn)         // from any member
 * const holders = await loc.findHolders(cid)       // master and replicas
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export * from './records.js'
export { RecordValidator, type Membership, type KeyValueStore, type RecordValidatorInit } from './validator.js'
export { Localization, type LocalizationInit, type PublishLfnInput } from './localization.js'
